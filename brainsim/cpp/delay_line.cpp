// brainsim: delay line of a learning network (see brainsim.network._add_delay_line).
// Placeholders (filled by brainsim.cppcode.load_cpp):
//   pre, post   Brian2 arrays: input and excitatory index of each input synapse
//   w           Brian2 array: the synapses' weights
//   spikespace  Brian2 array: the input layer's spike space
//   ge          Brian2 array: excitatory conductance of the excitatory neurons
//   n_in        number of input neurons (all copies)
//   n_neurons   excitatory neurons of one copy
//   n_lanes     lanes: parts of the work that may run in parallel threads
//   gain        input_gain (weight scale, 784 / n_input)
// Needs delay_steps.h before it.
// Input -> excitatory transmission with per-synapse delays, for networks whose
// presynaptic spikes do nothing but raise ge (learning off, or a rule acting on
// postsynaptic spikes). The input spikes of the last n_rows steps are kept; at each
// step, the synapses of delay d of the inputs that fired d steps ago add their
// current weight to ge: Brian2's "ge_post += w * input_gain" at the delayed step,
// without its spike queue's per-synapse bookkeeping. Synapses are sorted by input
// and delay, so each (input, delay) pair is one contiguous range.
// Lanes: lane l owns the target neurons [first_l, last_l) of every copy (its own
// sorted table and spike history), so the lanes never write the same memory and may
// run in parallel (one call per lane and step, from Brian2's OpenMP loop over the
// router's neurons); each target receives its increments in the same order whatever
// the lanes.
struct _brainsim_lane {
    std::vector<int64_t> first;   // range of each (input, delay) pair
    std::vector<int32_t> syn;     // sorted: Brian2's synapse index
    std::vector<int32_t> post;    // sorted: target neuron
    std::vector<std::vector<int32_t> > history;  // spikes of recent steps
    int64_t rows = 0;             // longest delay in steps + 1
};
static _brainsim_lane _brainsim_lanes[@n_lanes@];

static inline int64_t _brainsim_lane_start(int64_t lane)
{
    return lane * (int64_t)@n_neurons@ / @n_lanes@;
}

static void _brainsim_prepare(_brainsim_lane& L, int64_t lane, double dt)
{
    using namespace brian;
    const int64_t a = _brainsim_lane_start(lane), b = _brainsim_lane_start(lane + 1);
    const int64_t n_syn = @pre@.size();
    std::vector<int64_t> steps;
    const int64_t rows = _brainsim_delay_steps(dt, steps) + 1;
    // counting sort of this lane's synapses by (input, delay)
    L.first.assign(@n_in@ * rows + 1, 0);
    int64_t n_lane = 0;
    for (int64_t s = 0; s < n_syn; s++) {
        const int64_t j = @post@[s] % @n_neurons@;
        if (j < a || j >= b) continue;
        L.first[(int64_t)@pre@[s] * rows + steps[s] + 1]++;
        n_lane++;
    }
    for (int64_t k = 0; k < @n_in@ * rows; k++)
        L.first[k + 1] += L.first[k];
    std::vector<int64_t> fill(L.first.begin(), L.first.end() - 1);
    L.syn.assign(n_lane, 0);
    L.post.assign(n_lane, 0);
    for (int64_t s = 0; s < n_syn; s++) {
        const int64_t j = @post@[s] % @n_neurons@;
        if (j < a || j >= b) continue;
        const int64_t k = fill[(int64_t)@pre@[s] * rows + steps[s]]++;
        L.syn[k] = (int32_t)s;
        L.post[k] = @post@[s];
    }
    L.history.assign(rows, std::vector<int32_t>());
    L.rows = rows;
}

double brainsim_route_input(int64_t step, double dt, int64_t lane)
{
    using namespace brian;
    _brainsim_lane& L = _brainsim_lanes[lane];
    if (L.rows == 0) _brainsim_prepare(L, lane, dt);
    const int64_t rows = L.rows;
    // remember this step's input spikes
    const int32_t* spikes = @spikespace@;
    const int32_t n_spikes = spikes[@n_in@];
    std::vector<int32_t>& now = L.history[step % rows];
    now.assign(spikes, spikes + n_spikes);
    // deliver the spikes that arrive now, with the weights as they are now
    const double* __restrict w = &@w@[0];
    double* __restrict ge = @ge@;
    const int64_t* __restrict first = L.first.data();
    const int32_t* __restrict syn = L.syn.data();
    const int32_t* __restrict post = L.post.data();
    for (int64_t d = 0; d < rows && d <= step; d++) {
        const std::vector<int32_t>& fired = L.history[(step - d) % rows];
        for (size_t k = 0; k < fired.size(); k++) {
            const int64_t pair = (int64_t)fired[k] * rows + d;
            for (int64_t s = first[pair]; s < first[pair + 1]; s++)
                ge[post[s]] += w[syn[s]] * @gain@;
        }
    }
    return 0.0;
}
