// brainsim: the input layer's spikes from a calendar of next spike steps
// (see brainsim.network._add_input_calendar). Placeholders (brainsim.cppcode.load_cpp):
//   next_spike  Brian2 array: each input neuron's next spike time (s, half a step early)
//   spikespace  Brian2 array: the input layer's spike space
//   n_in        number of input neurons (all copies)
//   slot_steps  time steps per presentation slot
// The input layer's spikes of each step, from a calendar instead of a scan of the
// threshold "t > next_spike" over every input neuron. An input neuron's next spike
// time changes only at a slot start (input_rates draws every neuron's first spike)
// and when it fires (its reset draws the next one), and it fires at the first step
// k with k * dt > next_spike. So at a slot start every neuron is filed under that
// step; at every other step the neurons that fired in the step before are filed
// again with their new next_spike. The neurons due now are written to Brian2's spike
// space in increasing index order, as Brian2's thresholder writes them.
static std::vector<std::vector<int32_t> > _brainsim_due;  // by step within the slot
static std::vector<int32_t> _brainsim_fired;              // spikes of the last step
static int64_t _brainsim_slot_start = 0;

static void _brainsim_file(int32_t i, int64_t step, double dt)
{
    using namespace brian;
    const double next = @next_spike@[i];
    if (!(next < 1e15)) return;  // no further spike in this slot ("never", inf)
    int64_t k = (int64_t)floor(next / dt) + 1;  // first k with k * dt > next
    while (k > step && (k - 1) * dt > next) k--;
    while (k * dt <= next) k++;
    if (k < step) k = step;  // overdue (cannot happen): fire now, as the threshold would
    const int64_t slot_step = k - _brainsim_slot_start;
    if (slot_step < @slot_steps@) _brainsim_due[slot_step].push_back(i);
}

double brainsim_input_spikes(int64_t step, double dt)
{
    using namespace brian;
    int32_t* spikes = @spikespace@;
    if (_brainsim_due.empty()) _brainsim_due.resize(@slot_steps@);
    if (step % @slot_steps@ == 0) {  // slot start: every neuron has a new next spike
        for (size_t k = 0; k < _brainsim_due.size(); k++) _brainsim_due[k].clear();
        _brainsim_slot_start = step;
        for (int32_t i = 0; i < @n_in@; i++) _brainsim_file(i, step, dt);
    } else {
        for (size_t k = 0; k < _brainsim_fired.size(); k++)
            _brainsim_file(_brainsim_fired[k], step, dt);
    }
    std::vector<int32_t>& now = _brainsim_due[step - _brainsim_slot_start];
    std::sort(now.begin(), now.end());
    std::copy(now.begin(), now.end(), spikes);
    spikes[@n_in@] = (int32_t)now.size();
    _brainsim_fired.swap(now);
    now.clear();
    return 0.0;
}
