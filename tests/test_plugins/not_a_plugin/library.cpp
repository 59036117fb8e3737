// A shared library without a dray descriptor: the loader must skip it without running it.
extern "C" __attribute__((visibility("default"))) int not_a_plugin() { return 42; }
