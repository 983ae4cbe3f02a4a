/*
 * vecs_file.hpp -- what the standalone bench tools share: reading fvecs and
 * ivecs files, and comma-separated lists on the command line.
 */
#ifndef VX_BENCH_VECS_FILE_HPP
#define VX_BENCH_VECS_FILE_HPP

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

namespace vx::bench {

/* Rows of an fvecs/ivecs file (int32 count, then count 4-byte values per row); exits on error. */
template <class T>
std::vector<T>
read_vecs(const std::string &path, uint32_t *dim, uint32_t *rows)
{
	FILE *f = std::fopen(path.c_str(), "rb");
	if (!f) {
		std::fprintf(stderr, "cannot open %s\n", path.c_str());
		std::exit(1);
	}
	std::vector<T> out;
	int32_t d;
	*rows = 0;
	while (std::fread(&d, sizeof(d), 1, f) == 1) {
		size_t old = out.size();
		out.resize(old + static_cast<size_t>(d));
		if (std::fread(out.data() + old, sizeof(T), static_cast<size_t>(d), f) != static_cast<size_t>(d)) {
			std::fprintf(stderr, "short read in %s\n", path.c_str());
			std::exit(1);
		}
		*dim = static_cast<uint32_t>(d);
		(*rows)++;
	}
	std::fclose(f);
	return out;
}

/* Comma-separated unsigned list. */
inline std::vector<uint32_t>
parse_list(const char *s)
{
	std::vector<uint32_t> out;
	for (const char *p = s; *p;) {
		out.push_back(static_cast<uint32_t>(std::strtoul(p, const_cast<char **>(&p), 10)));
		if (*p == ',')
			p++;
	}
	return out;
}

} // namespace vx::bench

#endif
