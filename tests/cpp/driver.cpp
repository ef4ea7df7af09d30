// Test driver for brainsim's C++ pieces (brainsim/cpp), built and run by
// tests/test_cpp.py. The test fills the pieces' placeholders with the names of
// the stand-in arrays below (Brian2's generated objects.h is not needed) and
// writes them to delay_line.inc, delay_ring.inc, input_calendar.inc and
// request_stop.inc next to this file's copy.
//
// Usage:
//   driver line DATA   delay line (learning network): per-step ge increments
//   driver ring DATA   delay ring (frozen network): per-step ge increments
//   driver calendar SEED N_SLOTS P   input calendar against a threshold scan
//   driver stop        request_stop(0) and request_stop(1)
//   driver inhibit S_1 ... S_n   lateral inhibition: step k's inhibitory spikes S_k
//                      ("0,4", "" for none); prints gi after each step, first with the
//                      constant weight 17, then with the per-neuron weights j + 1, then
//                      with those weights and k % 3 spikes of other parts at step k; a
//                      last line repeats (N_EXC times) the number the parts variant
//                      published at the last step
//   driver exchange K  part exchange (EXCHANGE_PARTS parts, $BRAINSIM_EXCHANGE and
//                      $BRAINSIM_PART set): K calls, part p publishing (p + 1) * 1000 + k
//                      at call k; prints "ok K" if every call returned the sum of the
//                      other parts' values, else the first call that did not
// The delay line and ring are split into N_LANES lanes (set by the test).
// DATA: n_syn, then n_syn lines "pre post delay w", then "dt n_steps", then
// "scale_step scale" (multiply every weight by scale before that step; -1 for
// never), then one line per step: "n_spikes i_1 ... i_n".
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>
#include <fcntl.h>
#include <sched.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

struct Network { static bool _globally_stopped; };
bool Network::_globally_stopped = false;

namespace brian {
// delay line and ring: N_IN inputs, N_EXC excitatory neurons (set by the test)
std::vector<int32_t> syn_pre, syn_post;
std::vector<double> syn_delay, syn_w;
int32_t input_spikespace[N_IN + 1];
double exc_ge[N_EXC];
// input calendar: CAL_N input neurons
double cal_next_spike[CAL_N];
int32_t cal_spikespace[CAL_N + 1];
// lateral inhibition: N_EXC inhibitory and excitatory neurons
int32_t inh_spikespace[N_EXC + 1];
double exc_gi[N_EXC];
double exc_w_inh[N_EXC];
int64_t inh_other_spikes = 0;  // inhibitory spikes of other parts in this step
int64_t inh_published = -1;    // what the parts variant published last
}

namespace line {
#include "delay_line.inc"
}
namespace ring {
#include "delay_ring.inc"
}
namespace calendar {
#include "input_calendar.inc"
}
#include "request_stop.inc"
namespace inhibit_fixed {
#include "inhibition_fixed.inc"
}
namespace inhibit_scheduled {
#include "inhibition_scheduled.inc"
}
namespace inhibit_parts {  // stand-ins for part_exchange.cpp's publish and collect
static void brainsim_exchange_publish(int64_t n_spikes) { brian::inh_published = n_spikes; }
static int64_t brainsim_exchange_collect() { return brian::inh_other_spikes; }
#include "inhibition_parts.inc"
}
namespace exchange {
#include "part_exchange.inc"
}

using namespace brian;

static int run_delays(const char* which, const char* path)
{
    FILE* f = fopen(path, "r");
    if (!f) { perror(path); return 2; }
    long n_syn;
    if (fscanf(f, "%ld", &n_syn) != 1) return 2;
    for (long s = 0; s < n_syn; s++) {
        int pre, post; double delay, w;
        if (fscanf(f, "%d %d %lf %lf", &pre, &post, &delay, &w) != 4) return 2;
        syn_pre.push_back(pre); syn_post.push_back(post);
        syn_delay.push_back(delay); syn_w.push_back(w);
    }
    double dt, scale; long n_steps, scale_step;
    if (fscanf(f, "%lf %ld %ld %lf", &dt, &n_steps, &scale_step, &scale) != 4) return 2;
    const bool is_ring = strcmp(which, "ring") == 0;
    for (long step = 0; step < n_steps; step++) {
        int n;
        if (fscanf(f, "%d", &n) != 1) return 2;
        for (int k = 0; k < n; k++)
            if (fscanf(f, "%d", &input_spikespace[k]) != 1) return 2;
        input_spikespace[N_IN] = n;
        if (step == scale_step)
            for (size_t s = 0; s < syn_w.size(); s++) syn_w[s] *= scale;
        std::fill(exc_ge, exc_ge + N_EXC, 0.0);
        for (int lane = 0; lane < N_LANES; lane++) {  // as OpenMP threads would
            if (is_ring) ring::brainsim_route_input(step, dt, lane);
            else line::brainsim_route_input(step, dt, lane);
        }
        for (int j = 0; j < N_EXC; j++) printf(j ? " %.17g" : "%.17g", exc_ge[j]);
        printf("\n");
    }
    fclose(f);
    return 0;
}

// Next spike time as brainsim's input neurons draw it: `gap` empty steps after
// step `k` (offset -0.5 at a slot start, +0.5 after a spike), moved out of reach
// ("never") when it falls after the presentation's end t_off.
static double next_spike_time(double t, double gap, double offset, double t_off, double dt)
{
    double next = t + (gap + offset) * dt;
    if (next + 0.5 * dt > t_off) next += 1e9;
    return next;
}

static int run_calendar(unsigned long seed, long n_slots, double p)
{
    const double dt = 0.5e-3;
    const long slot_steps = SLOT_STEPS, present_steps = SLOT_STEPS - 40;
    srand48((long)seed);
    long n_spikes = 0, mismatches = 0;
    std::vector<int32_t> scan;
    for (long step = 0; step < n_slots * slot_steps; step++) {
        const double t = step * dt;
        if (step % slot_steps == 0) {  // input_rates: every neuron's first spike
            const double t_off = t + (present_steps - 0.5) * dt;
            for (int i = 0; i < CAL_N; i++) {
                const double gap = floor(log(1 - drand48()) / log(1 - p));
                cal_next_spike[i] = next_spike_time(t, gap, -0.5, t_off, dt);
            }
        }
        scan.clear();  // Brian2's threshold "t > next_spike", in index order
        for (int i = 0; i < CAL_N; i++)
            if (t > cal_next_spike[i]) scan.push_back(i);
        calendar::brainsim_input_spikes(step, dt);
        const int32_t n = cal_spikespace[CAL_N];
        if (n != (int32_t)scan.size() || !std::equal(scan.begin(), scan.end(), cal_spikespace))
            mismatches++;
        n_spikes += n;
        // reset of the neurons that fired: draw the next spike
        const double t_off = (step / slot_steps) * slot_steps * dt + (present_steps - 0.5) * dt;
        for (int32_t k = 0; k < n; k++) {
            const double gap = floor(log(1 - drand48()) / log(1 - p));
            cal_next_spike[cal_spikespace[k]] = next_spike_time(t, gap, 0.5, t_off, dt);
        }
    }
    printf("%ld %ld\n", n_spikes, mismatches);
    return 0;
}

static int run_inhibition(int n_steps, char** steps)
{
    std::vector<std::vector<int32_t> > fired(n_steps);
    for (int step = 0; step < n_steps; step++)
        for (char* tok = strtok(steps[step], ","); tok; tok = strtok(NULL, ","))
            fired[step].push_back(atoi(tok));
    for (int j = 0; j < N_EXC; j++) exc_w_inh[j] = j + 1;
    for (int variant = 0; variant < 3; variant++) {
        std::fill(exc_gi, exc_gi + N_EXC, 0.0);
        for (int step = 0; step < n_steps; step++) {
            std::copy(fired[step].begin(), fired[step].end(), inh_spikespace);
            inh_spikespace[N_EXC] = (int32_t)fired[step].size();
            inh_other_spikes = step % 3;
            if (variant == 0) inhibit_fixed::brainsim_lateral_inhibition(step);
            else if (variant == 1) inhibit_scheduled::brainsim_lateral_inhibition(step);
            else {  // this part's spikes, then (later in a step) the other parts'
                inhibit_parts::brainsim_lateral_inhibition(step);
                inhibit_parts::brainsim_other_parts_inhibition(step);
            }
            for (int j = 0; j < N_EXC; j++) printf(j ? " %.17g" : "%.17g", exc_gi[j]);
            printf("\n");
        }
    }
    for (int j = 0; j < N_EXC; j++) printf(j ? " %lld" : "%lld", (long long)inh_published);
    printf("\n");
    return 0;
}

static int run_exchange(long n_calls)
{
    const char* part_text = getenv("BRAINSIM_PART");
    const int part = part_text ? atoi(part_text) : 0;
    for (long k = 0; k < n_calls; k++) {
        int64_t expected = 0;
        for (int q = 0; q < EXCHANGE_PARTS; q++)
            if (q != part) expected += (q + 1) * 1000 + k;
        const int64_t got = exchange::brainsim_exchange_others((part + 1) * 1000 + k);
        if (got != expected) {
            printf("call %ld: %lld, expected %lld\n", k, (long long)got, (long long)expected);
            return 1;
        }
    }
    printf("ok %ld\n", n_calls);
    return 0;
}

int main(int argc, char** argv)
{
    if (argc >= 3 && (!strcmp(argv[1], "line") || !strcmp(argv[1], "ring")))
        return run_delays(argv[1], argv[2]);
    if (argc == 5 && !strcmp(argv[1], "calendar"))
        return run_calendar(strtoul(argv[2], NULL, 10), atol(argv[3]), atof(argv[4]));
    if (argc == 2 && !strcmp(argv[1], "stop")) {
        const double a = brainsim_request_stop(0);
        const bool after0 = Network::_globally_stopped;
        const double b = brainsim_request_stop(1);
        printf("%g %d %g %d\n", a, (int)after0, b, (int)Network::_globally_stopped);
        return 0;
    }
    if (argc >= 2 && !strcmp(argv[1], "inhibit")) {
        return run_inhibition(argc - 2, argv + 2);
    }
    if (argc == 3 && !strcmp(argv[1], "exchange")) return run_exchange(atol(argv[2]));
    fprintf(stderr, "usage: driver line|ring DATA | calendar SEED N_SLOTS P | stop | "
                    "inhibit S_1 ... S_n | exchange K\n");
    return 2;
}
