// brainsim: seed Brian2's random generators from $BRAINSIM_SEED, inserted into main()
// before the run, so that every execution of the same binary can draw different
// (reproducible) numbers (see brainsim.simulation._build_standalone).
// Placeholder (brainsim.cppcode.load_cpp):
//   n_generators  number of random generators (one per OpenMP thread, at least 1)
{
    const char* _brainsim_seed = getenv("BRAINSIM_SEED");
    if (_brainsim_seed != NULL) {
        unsigned long _s = strtoul(_brainsim_seed, NULL, 10);
        for (int _i = 0; _i < @n_generators@; _i++)
            brian::_random_generators[_i].seed(_s + 1000003UL * _i);
    }
}
