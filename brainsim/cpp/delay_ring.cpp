// brainsim: ring of future conductance increments of a frozen network
// (see brainsim.network._add_delay_line). Placeholders (brainsim.cppcode.load_cpp):
//   pre, post   Brian2 arrays: input and excitatory index of each input synapse
//   w           Brian2 array: the synapses' weights
//   spikespace  Brian2 array: the input layer's spike space
//   ge          Brian2 array: excitatory conductance of the excitatory neurons
//   n_in, n_exc          input and excitatory neurons, all copies
//   n_pixels, n_neurons  input and excitatory neurons of one copy
//   n_copies             copies of the network
//   gain                 input_gain (weight scale, 784 / n_input)
// Needs delay_steps.h before it.
// Input -> excitatory transmission with per-synapse delays for a frozen network
// (the weights do not change during the run). ring[(step + d) mod n_rows][j]
// accumulates the weights of the input spikes that reach excitatory neuron j d steps
// later; each step the row due now is added to ge (times input_gain) and cleared.
// Brian2's "ge_post += w * input_gain" at the delayed step, summed in another order.
// The copies of the network share their weights and delays, so one table serves
// them all: copy 0's synapses, sorted by input pixel, delay and target neuron.
static std::vector<double> _brainsim_ring;
static std::vector<int64_t> _brainsim_first;   // range of each pixel's synapses
static std::vector<int32_t> _brainsim_offset;  // sorted: d * n_exc + target in copy 0
static std::vector<double> _brainsim_w;        // sorted: weight
static int64_t _brainsim_rows = 0;             // longest delay in steps + 1

static void _brainsim_prepare(double dt)
{
    using namespace brian;
    const int64_t n_syn = @pre@.size();
    const int64_t n_pairs = (int64_t)@n_pixels@ * @n_neurons@;
    std::vector<int64_t> steps;
    const int64_t rows = _brainsim_delay_steps(dt, steps) + 1;
    // every copy must have the synapses of copy 0, with the same delays and weights
    std::vector<int64_t> delay0(n_pairs, -1);
    std::vector<double> w0(n_pairs, 0.0);
    int64_t n_syn0 = 0;
    for (int64_t s = 0; s < n_syn; s++) {
        if (@pre@[s] >= @n_pixels@) continue;
        const int64_t pair = (int64_t)@pre@[s] * @n_neurons@ + @post@[s];
        delay0[pair] = steps[s];
        w0[pair] = @w@[s];
        n_syn0++;
    }
    bool shared = (n_syn == n_syn0 * @n_copies@);
    for (int64_t s = 0; s < n_syn && shared; s++) {
        const int64_t c = @pre@[s] / @n_pixels@;
        const int64_t j = @post@[s] - c * @n_neurons@;
        const int64_t pair = (@pre@[s] - c * @n_pixels@) * @n_neurons@ + j;
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
            fill[(pair / @n_neurons@) * rows + delay0[pair] + 1]++;
    for (int64_t k = 0; k < @n_pixels@ * rows; k++) fill[k + 1] += fill[k];
    _brainsim_first.assign(@n_pixels@ + 1, 0);
    for (int64_t p = 0; p <= @n_pixels@; p++) _brainsim_first[p] = fill[p * rows];
    _brainsim_offset.assign(n_syn0, 0);
    _brainsim_w.assign(n_syn0, 0.0);
    for (int64_t pair = 0; pair < n_pairs; pair++) {
        if (delay0[pair] < 0) continue;
        const int64_t k = fill[(pair / @n_neurons@) * rows + delay0[pair]]++;
        _brainsim_offset[k] = (int32_t)(delay0[pair] * @n_exc@ + pair % @n_neurons@);
        _brainsim_w[k] = w0[pair];
    }
    _brainsim_rows = rows;
    _brainsim_ring.assign(rows * @n_exc@, 0.0);
}

double brainsim_route_input(int64_t step, double dt)
{
    using namespace brian;
    if (_brainsim_rows == 0) _brainsim_prepare(dt);
    const int64_t size = _brainsim_rows * @n_exc@;
    const int64_t base = (step % _brainsim_rows) * @n_exc@;
    double* __restrict ring = &_brainsim_ring[0];
    const double* __restrict w = &_brainsim_w[0];
    const int32_t* __restrict offset = &_brainsim_offset[0];
    const int32_t* spikes = @spikespace@;
    const int32_t n_spikes = spikes[@n_in@];
    for (int32_t k = 0; k < n_spikes; k++) {
        const int64_t c = spikes[k] / @n_pixels@;
        const int64_t pixel = spikes[k] - c * @n_pixels@;
        const int64_t start = base + c * @n_neurons@;  // this copy's neuron 0, now
        for (int64_t s = _brainsim_first[pixel]; s < _brainsim_first[pixel + 1]; s++) {
            int64_t at = start + offset[s];
            if (at >= size) at -= size;
            ring[at] += w[s];
        }
    }
    double* __restrict ge = @ge@;
    double* __restrict due = ring + base;
    for (int64_t j = 0; j < @n_exc@; j++) {
        ge[j] += due[j] * @gain@;
        due[j] = 0.0;
    }
    return 0.0;
}
