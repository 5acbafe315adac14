# Benchmarks (workbench/bench/README.md): what a fleet audit and a rollout cost, side by side with the
# alternatives. Never part of `make test`: they time things, and times are no assertions.
#   make bench                       every part: audit (50 simulated sshd hosts), converge, rollout, distribution,
#                                    zram-recompress (one lab machine on the test kernel)
#   make bench BENCH=audit           one part; BENCH_ARGS="--hosts 20 --baseline-items 16" passes options
#   make bench-clean                 removes namespaces, sshd processes and lab machines a crashed run left
BENCH ?=
BENCH_ARGS ?=

.PHONY: bench bench-clean

bench: setup ## the benchmarks of workbench/bench/ (ratios against a baseline run side by side)
	$(BIN)/python workbench/bench/run.py $(BENCH) $(BENCH_ARGS)

bench-clean: ## remove the benchmarks' results
	$(BIN)/python workbench/bench/run.py clean
