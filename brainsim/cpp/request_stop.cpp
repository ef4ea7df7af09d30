// brainsim: request_stop(flag) ends the current run when flag is 1
// (see brainsim.network._stop_function). No placeholders.
double brainsim_request_stop(int flag)
{
    if (flag) Network::_globally_stopped = true;
    return (double)flag;
}
