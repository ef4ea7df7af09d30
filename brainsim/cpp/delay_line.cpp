// brainsim: delay line of a learning network (see brainsim.network._add_delay_line).
// Placeholders (filled by brainsim.cppcode.load_cpp):
//   pre, post   Brian2 arrays: input and excitatory index of each input synapse
//   w           Brian2 array: the synapses' weights
//   spikespace  Brian2 array: the input layer's spike space
//   ge          Brian2 array: excitatory conductance of the excitatory neurons
//   n_in        number of input neurons (all copies)
//   gain        input_gain (weight scale, 784 / n_input)
// Needs delay_steps.h before it.
// Input -> excitatory transmission with per-synapse delays, for networks whose
// presynaptic spikes do nothing but raise ge (learning off, or a rule acting on
// postsynaptic spikes). The input spikes of the last n_rows steps are kept; at each
// step, the synapses of delay d of the inputs that fired d steps ago add their
// current weight to ge: Brian2's "ge_post += w * input_gain" at the delayed step,
// without its spike queue's per-synapse bookkeeping. Synapses are sorted by input
// and delay, so each (input, delay) pair is one contiguous range.
static std::vector<int64_t> _brainsim_first;   // range of each (input, delay) pair
static std::vector<int32_t> _brainsim_syn;     // sorted: Brian2's synapse index
static std::vector<int32_t> _brainsim_post;    // sorted: target neuron
static std::vector<std::vector<int32_t> > _brainsim_history;  // spikes of recent steps
static int64_t _brainsim_rows = 0;             // longest delay in steps + 1

static void _brainsim_prepare(double dt)
{
    using namespace brian;
    const int64_t n_syn = @pre@.size();
    std::vector<int64_t> steps;
    const int64_t rows = _brainsim_delay_steps(dt, steps) + 1;
    // counting sort by (input, delay)
    _brainsim_first.assign(@n_in@ * rows + 1, 0);
    for (int64_t s = 0; s < n_syn; s++)
        _brainsim_first[(int64_t)@pre@[s] * rows + steps[s] + 1]++;
    for (int64_t k = 0; k < @n_in@ * rows; k++)
        _brainsim_first[k + 1] += _brainsim_first[k];
    std::vector<int64_t> fill(_brainsim_first.begin(), _brainsim_first.end() - 1);
    _brainsim_syn.assign(n_syn, 0);
    _brainsim_post.assign(n_syn, 0);
    for (int64_t s = 0; s < n_syn; s++) {
        const int64_t k = fill[(int64_t)@pre@[s] * rows + steps[s]]++;
        _brainsim_syn[k] = (int32_t)s;
        _brainsim_post[k] = @post@[s];
    }
    _brainsim_history.assign(rows, std::vector<int32_t>());
    _brainsim_rows = rows;
}

double brainsim_route_input(int64_t step, double dt)
{
    using namespace brian;
    if (_brainsim_rows == 0) _brainsim_prepare(dt);
    const int64_t rows = _brainsim_rows;
    // remember this step's input spikes
    const int32_t* spikes = @spikespace@;
    const int32_t n_spikes = spikes[@n_in@];
    std::vector<int32_t>& now = _brainsim_history[step % rows];
    now.assign(spikes, spikes + n_spikes);
    // deliver the spikes that arrive now, with the weights as they are now
    const double* __restrict w = &@w@[0];
    double* __restrict ge = @ge@;
    const int64_t* __restrict first = &_brainsim_first[0];
    const int32_t* __restrict syn = &_brainsim_syn[0];
    const int32_t* __restrict post = &_brainsim_post[0];
    for (int64_t d = 0; d < rows && d <= step; d++) {
        const std::vector<int32_t>& fired = _brainsim_history[(step - d) % rows];
        for (size_t k = 0; k < fired.size(); k++) {
            const int64_t pair = (int64_t)fired[k] * rows + d;
            for (int64_t s = first[pair]; s < first[pair + 1]; s++)
                ge[post[s]] += w[syn[s]] * @gain@;
        }
    }
    return 0.0;
}
