// brainsim: numbers exchanged between the processes that share one network
// (see brainsim.network.build_network's n_parts and brainsim.simulation.PartsSimulator).
// Placeholders (brainsim.cppcode.load_cpp):
//   n_parts   processes that share the network, each simulating a part of the
//             excitatory layer
//   channel   which exchange this is (0: inhibitory spikes each step, 1: excitatory
//             spike count each slot); each channel has its own slots and sequence
//   timeout_s seconds without progress of another process before giving up (600)
// The processes map the same file ($BRAINSIM_EXCHANGE, n_parts x 2 slots of 64 bytes,
// zeros at the start); $BRAINSIM_PART is this process's index. Every process makes the
// same calls in the same order (once per time step, or once per slot): publication s
// (brainsim_exchange_publish) stores this process's value and sets its sequence number
// to s + 1; the collection that follows it (brainsim_exchange_collect, possibly in
// another code object, later in the same step) waits until every other process has
// published its call s and returns the sum of their values; work placed between the two
// hides the wait. brainsim_exchange_others does both at once. Values alternate between
// two cells (s even / odd): a process cannot publish call s + 2 before all others have
// finished collecting call s, because it first collects their call s + 1. The sequence
// number lives in the shared file, so the code objects that publish and collect (each
// with its own mapping) agree on it. A process waits by spinning, then by
// yielding the core; it stops with an error when another process makes no progress
// for timeout_s or when this process's parent has died (its parent process changes), so
// that a failed part never leaves its partners waiting for ever.
// Headers (given to Brian2 with the code, see PART_EXCHANGE_HEADERS in
// brainsim.network): <fcntl.h> <sched.h> <sys/mman.h> <time.h> <unistd.h> <cstdio>
// <cstdlib>.

struct _brainsim_exchange_slot {
    int64_t seq;        // number of calls published
    int64_t value[2];   // the value of the last two calls
    int64_t padding[5]; // one cache line per slot
};

static _brainsim_exchange_slot* _brainsim_exchange_slots = NULL;
static int _brainsim_exchange_part = -1;
static pid_t _brainsim_exchange_parent = 0;

static void _brainsim_exchange_fail(const char* what)
{
    fprintf(stderr, "brainsim part exchange: %s\n", what);
    fflush(stderr);
    _exit(3);
}

static void _brainsim_exchange_attach()
{
    const char* path = getenv("BRAINSIM_EXCHANGE");
    const char* part = getenv("BRAINSIM_PART");
    if (path == NULL || part == NULL)
        _brainsim_exchange_fail("BRAINSIM_EXCHANGE and BRAINSIM_PART must be set "
                                "(run the parts through brainsim.simulation.PartsSimulator)");
    _brainsim_exchange_part = atoi(part);
    _brainsim_exchange_parent = getppid();
    if (_brainsim_exchange_part < 0 || _brainsim_exchange_part >= @n_parts@)
        _brainsim_exchange_fail("BRAINSIM_PART is not a part of this network");
    const size_t size = sizeof(_brainsim_exchange_slot) * 2 * @n_parts@;
    const int fd = open(path, O_RDWR);
    if (fd < 0) _brainsim_exchange_fail("cannot open the file named by BRAINSIM_EXCHANGE");
    void* mem = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    close(fd);
    if (mem == MAP_FAILED) _brainsim_exchange_fail("cannot map the exchange file");
    _brainsim_exchange_slots = (_brainsim_exchange_slot*)mem + @channel@ * @n_parts@;
}

static inline double _brainsim_exchange_seconds()
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + 1e-9 * ts.tv_nsec;
}

// Publish `value` as this process's next call.
static inline void brainsim_exchange_publish(int64_t value)
{
    if (_brainsim_exchange_slots == NULL) _brainsim_exchange_attach();
    _brainsim_exchange_slot* mine = _brainsim_exchange_slots + _brainsim_exchange_part;
    const int64_t call = __atomic_load_n(&mine->seq, __ATOMIC_RELAXED);
    mine->value[call & 1] = value;
    __atomic_store_n(&mine->seq, call + 1, __ATOMIC_RELEASE);
}

// The sum of the other processes' values of this process's last published call.
static inline int64_t brainsim_exchange_collect()
{
    if (_brainsim_exchange_slots == NULL) _brainsim_exchange_attach();
    _brainsim_exchange_slot* mine = _brainsim_exchange_slots + _brainsim_exchange_part;
    const int64_t call = __atomic_load_n(&mine->seq, __ATOMIC_RELAXED) - 1;
    int64_t others = 0;
    for (int p = 0; p < @n_parts@; p++) {
        if (p == _brainsim_exchange_part) continue;
        _brainsim_exchange_slot* theirs = _brainsim_exchange_slots + p;
        long spins = 0;
        double since = 0.0;
        while (__atomic_load_n(&theirs->seq, __ATOMIC_ACQUIRE) <= call) {
            if (++spins < 4000) {
#if defined(__x86_64__) || defined(__i386__)
                __builtin_ia32_pause();
#endif
                continue;
            }
            sched_yield();  // the other process may be waiting for this core
            if (spins % 4096 == 0) {
                const double now = _brainsim_exchange_seconds();
                if (since == 0.0) since = now;
                if (getppid() != _brainsim_exchange_parent) _brainsim_exchange_fail("the parent process has died");
                if (now - since > @timeout_s@)
                    _brainsim_exchange_fail("another part made no progress for @timeout_s@ s");
            }
        }
        others += theirs->value[call & 1];
    }
    return others;
}

// Publish `value` and return the sum of the other processes' values of the same call.
static inline int64_t brainsim_exchange_others(int64_t value)
{
    brainsim_exchange_publish(value);
    return brainsim_exchange_collect();
}

// The controller's spike count of a slot: this part's plus the others'.
static inline double brainsim_part_total(double own)
{
    return own + (double)brainsim_exchange_others((int64_t)own);
}
