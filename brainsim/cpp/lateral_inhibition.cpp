// brainsim: lateral inhibition of the excitatory layer without synapses
// (see brainsim.network._add_inhibition_loop). Placeholders (brainsim.cppcode.load_cpp):
//   spikespace  Brian2 array: the inhibitory layer's spike space
//   gi          Brian2 array: inhibitory conductance of the excitatory neurons
//   n_total     inhibitory (= excitatory) neurons, all copies
//   n_neurons   neurons of one copy
//   weight      the increment of gi[j]: a number, or a Brian2 array element such as
//               _array_excitatory_w_inh[j] (a weight set per run)
//   n_parts     processes that share the network (brainsim.simulation.PartsSimulator);
//               with more than 1, this part publishes its number of spikes
//               (brainsim_exchange_publish, part_exchange.cpp, compiled in before this
//               piece) and brainsim_other_parts_inhibition (a second code object, later
//               in the step) collects the other parts' (brainsim_exchange_collect)
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
#if @n_parts@ > 1
    brainsim_exchange_publish(n_spikes);
#endif
    return 0.0;
}

// The other parts' inhibitory spikes of this step (a network shared by processes).
double brainsim_other_parts_inhibition(int64_t step)
{
#if @n_parts@ > 1
    using namespace brian;
    double* __restrict gi = @gi@;
    const int64_t n_other = brainsim_exchange_collect();
    for (int64_t k = 0; k < n_other; k++)
        for (int64_t j = 0; j < @n_total@; j++) gi[j] += @weight@;
#endif
    return 0.0;
}
