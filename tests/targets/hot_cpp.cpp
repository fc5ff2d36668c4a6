// A C++ target whose hot function is a member of a class template in a
// namespace, so that its symbol is mangled (_ZN2ns3HotIiE3runEi): loupe
// must show it demangled, as perf does, and mangled with --no-demangle.
// Prints "ready <pid>" once running.
#include <cstdio>
#include <unistd.h>

namespace ns {

template <typename T> struct Hot {
	volatile T sink;
	__attribute__((noinline)) T run(T n);
};

template <typename T> T Hot<T>::run(T n)
{
	for (T i = 0; i < n; i++)
		sink = sink + i * 7;
	return sink;
}

template struct Hot<int>;

} // namespace ns

int main()
{
	ns::Hot<int> h;
	h.sink = 0;
	std::printf("ready %d\n", (int)getpid());
	std::fflush(stdout);
	for (;;)
		h.run(100000000);
}
