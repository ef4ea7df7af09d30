// brainsim: input synapse delays in time steps (included in delay_line.cpp's and
// delay_ring.cpp's support code). Placeholders (filled by brainsim.cppcode.load_cpp):
//   pre    Brian2 array: presynaptic (input) index of each input -> excitatory synapse
//   delay  Brian2 array: each such synapse's delay in seconds
// Each input synapse's delay in time steps, rounded as Brian2 rounds it; returns
// the longest.
static int64_t _brainsim_delay_steps(double dt, std::vector<int64_t>& steps)
{
    using namespace brian;
    const int64_t n_syn = @pre@.size();
    steps.assign(n_syn, 0);
    int64_t max_steps = 0;
    for (int64_t s = 0; s < n_syn; s++) {
        steps[s] = (int64_t)(@delay@[s] / dt + 0.5);
        if (steps[s] > max_steps) max_steps = steps[s];
    }
    return max_steps;
}
