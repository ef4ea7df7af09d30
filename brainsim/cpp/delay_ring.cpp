// brainsim: ring of future conductance increments of a frozen network
// (see brainsim.network._add_delay_line). Placeholders (brainsim.cppcode.load_cpp):
//   pre, post   Brian2 arrays: input and excitatory index of each input synapse
//   w           Brian2 array: the synapses' weights
//   spikespace  Brian2 array: the input layer's spike space
//   ge          Brian2 array: excitatory conductance of the excitatory neurons
//   n_in                 input neurons, all copies
//   n_pixels, n_neurons  input and excitatory neurons of one copy
//   n_copies             copies of the network
//   n_lanes              lanes: parts of the work that may run in parallel threads
//   gain                 input_gain (weight scale, 784 / n_input)
// Needs delay_steps.h before it.
// Input -> excitatory transmission with per-synapse delays for a frozen network
// (the weights do not change during the run). A ring of rows (one per step of delay)
// accumulates the weights of the input spikes that reach each excitatory neuron d
// steps later; each step the row due now is added to ge (times input_gain) and
// cleared: Brian2's "ge_post += w * input_gain" at the delayed step.
// The copies of the network share their weights and delays, so one table serves
// them all: copy 0's synapses, sorted by input pixel, delay and target neuron.
// Lanes: lane l owns the neurons [first_l, last_l) of every copy (its own table and
// ring), so the lanes never write the same memory and may run in parallel (one call
// per lane and step, from Brian2's OpenMP loop over the router's neurons). Each
// target's increments are summed in the order of the spikes, whatever the lanes.
struct _brainsim_lane {
    std::vector<int64_t> first;   // range of each pixel's synapses
    std::vector<int32_t> offset;  // sorted: d * row + copy-0 target - lane's first neuron
    std::vector<double> w;        // sorted: weight
    std::vector<double> ring;     // rows x (n_copies x the lane's neurons)
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
    const int64_t width = b - a, row = (int64_t)@n_copies@ * width;
    const int64_t n_syn = @pre@.size();
    const int64_t n_pairs = (int64_t)@n_pixels@ * width;
    std::vector<int64_t> steps;
    const int64_t rows = _brainsim_delay_steps(dt, steps) + 1;
    // this lane's synapses of copy 0, by (pixel, target - a)
    std::vector<int64_t> delay0(n_pairs, -1);
    std::vector<double> w0(n_pairs, 0.0);
    int64_t n_syn0 = 0, n_lane = 0;
    for (int64_t s = 0; s < n_syn; s++) {
        const int64_t j = @post@[s] % @n_neurons@;
        if (j < a || j >= b) continue;
        n_lane++;
        if (@pre@[s] >= @n_pixels@) continue;
        const int64_t pair = (int64_t)@pre@[s] * width + (j - a);
        delay0[pair] = steps[s];
        w0[pair] = @w@[s];
        n_syn0++;
    }
    // every copy must have the synapses of copy 0, with the same delays and weights
    bool shared = (n_lane == n_syn0 * @n_copies@);
    for (int64_t s = 0; s < n_syn && shared; s++) {
        const int64_t c = @pre@[s] / @n_pixels@;
        const int64_t j = @post@[s] - c * @n_neurons@;
        if (j >= 0 && j < @n_neurons@ && (j < a || j >= b)) continue;  // another lane's
        const int64_t pair = (@pre@[s] - c * @n_pixels@) * width + (j - a);
        shared = (j >= 0 && j < @n_neurons@ && delay0[pair] == steps[s] && w0[pair] == @w@[s]);
    }
    if (!shared) {
        fprintf(stderr, "brainsim: the copies of a frozen network must share their "
                        "input weights and delays\n");
        exit(3);
    }
    // counting sort by (pixel, delay); targets in increasing order within each pair
    std::vector<int64_t> fill(@n_pixels@ * rows + 1, 0);
    for (int64_t pair = 0; pair < n_pairs; pair++)
        if (delay0[pair] >= 0)
            fill[(pair / width) * rows + delay0[pair] + 1]++;
    for (int64_t k = 0; k < @n_pixels@ * rows; k++) fill[k + 1] += fill[k];
    L.first.assign(@n_pixels@ + 1, 0);
    for (int64_t p = 0; p <= @n_pixels@; p++) L.first[p] = fill[p * rows];
    L.offset.assign(n_syn0, 0);
    L.w.assign(n_syn0, 0.0);
    for (int64_t pair = 0; pair < n_pairs; pair++) {
        if (delay0[pair] < 0) continue;
        const int64_t k = fill[(pair / width) * rows + delay0[pair]]++;
        L.offset[k] = (int32_t)(delay0[pair] * row + pair % width);
        L.w[k] = w0[pair];
    }
    L.ring.assign(rows * row, 0.0);
    L.rows = rows;
}

double brainsim_route_input(int64_t step, double dt, int64_t lane)
{
    using namespace brian;
    _brainsim_lane& L = _brainsim_lanes[lane];
    if (L.rows == 0) _brainsim_prepare(L, lane, dt);
    const int64_t a = _brainsim_lane_start(lane), width = _brainsim_lane_start(lane + 1) - a;
    const int64_t row = (int64_t)@n_copies@ * width;
    const int64_t size = L.rows * row;
    const int64_t base = (step % L.rows) * row;
    double* __restrict ring = L.ring.data();
    const double* __restrict w = L.w.data();
    const int32_t* __restrict offset = L.offset.data();
    const int64_t* __restrict first = L.first.data();
    const int32_t* spikes = @spikespace@;
    const int32_t n_spikes = spikes[@n_in@];
    for (int32_t k = 0; k < n_spikes; k++) {
        const int64_t c = spikes[k] / @n_pixels@;
        const int64_t pixel = spikes[k] - c * @n_pixels@;
        const int64_t start = base + c * width;  // this copy's first neuron of the lane, now
        for (int64_t s = first[pixel]; s < first[pixel + 1]; s++) {
            int64_t at = start + offset[s];
            if (at >= size) at -= size;
            ring[at] += w[s];
        }
    }
    double* __restrict ge = @ge@;
    double* __restrict due = ring + base;
    for (int64_t c = 0; c < @n_copies@; c++) {
        double* __restrict ge_c = ge + c * @n_neurons@ + a;
        double* __restrict due_c = due + c * width;
        for (int64_t j = 0; j < width; j++) {
            ge_c[j] += due_c[j] * @gain@;
            due_c[j] = 0.0;
        }
    }
    return 0.0;
}
