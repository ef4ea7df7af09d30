// brainsim: lateral inhibition of the excitatory layer without synapses
// (see brainsim.network._add_inhibition_loop). Placeholders (brainsim.cppcode.load_cpp):
//   spikespace  Brian2 array: the inhibitory layer's spike space
//   gi          Brian2 array: inhibitory conductance of the excitatory neurons
//   n_total     inhibitory (= excitatory) neurons, all copies
//   n_neurons   neurons of one copy
//   weight      the increment of gi[j]: a number, or a Brian2 array element such as
//               _array_excitatory_w_inh[j] (a weight set per run)
// Every inhibitory spike raises gi of every excitatory neuron of its copy except its
// partner (same index) by the weight: what [DC15]'s all-to-all synapses (i != j) do,
// with the same additions in the same order (spikes in the spike space's order,
// targets ascending), so with the same numbers, in O(N) memory.
double brainsim_lateral_inhibition(int64_t step)
{
    using namespace brian;
    const int32_t* spikes = @spikespace@;
    const int32_t n_spikes = spikes[@n_total@];
    double* __restrict gi = @gi@;
    for (int32_t k = 0; k < n_spikes; k++) {
        const int64_t i = spikes[k];
        const int64_t first = (i / @n_neurons@) * @n_neurons@;
        for (int64_t j = first; j < first + @n_neurons@; j++)
            if (j != i) gi[j] += @weight@;
    }
    return 0.0;
}
