"""opendcc benchmarks: `make bench` runs every `bench_*.py` and writes docs/benchmarks.md."""
