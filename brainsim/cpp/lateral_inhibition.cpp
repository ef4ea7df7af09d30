// brainsim: lateral inhibition of the excitatory layer without synapses
// (see brainsim.network._add_inhibition_loop). Placeholders (brainsim.cppcode.load_cpp):
//   spikespace  Brian2 array: the inhibitory layer's spike space
//   gi          Brian2 array: inhibitory conductance of the excitatory neurons
//   n_total     inhibitory (= excitatory) neurons, all copies
//   n_neurons   neurons of one copy
//   weight      the increment of gi[j]: a number, or a Brian2 array element such as
//               _array_excitatory_w_inh[j] (a weight set per run)
//   publish     statement run after this part's spikes are delivered: with n_parts > 1
//               "brainsim_exchange_publish(n_spikes);" (part_exchange.cpp), else ";"
//   other_spikes  inhibitory spikes of this step in the other processes that share the
//               network, read by brainsim_other_parts_inhibition (a second code object,
//               later in the step): "brainsim_exchange_collect()" or 0
// Every inhibitory spike raises gi of every excitatory neuron of its copy except its
// partner (same index) by the weight: what [DC15]'s all-to-all synapses (i != j) do,
// with the same additions in the same order (spikes in the spike space's order,
// targets ascending), so with the same numbers, in O(N) memory. A spike of another
// process's part reaches every neuron of this part (none is its partner); all
// additions onto one neuron add the same weight, so their order does not change the
// sum and a network split into parts computes the same numbers as the whole.
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
    @publish@
    return 0.0;
}

// The other parts' inhibitory spikes of this step (a network shared by processes).
double brainsim_other_parts_inhibition(int64_t step)
{
    using namespace brian;
    double* __restrict gi = @gi@;
    const int64_t n_other = @other_spikes@;
    for (int64_t k = 0; k < n_other; k++)
        for (int64_t j = 0; j < @n_total@; j++) gi[j] += @weight@;
    return 0.0;
}
