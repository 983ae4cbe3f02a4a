/*
 * cpp_only.hpp -- included last by every Core-zone .cpp file (src/core, src/kernels).
 *
 * Core code (kernels, graph algorithms, quantizers) must build and be tested
 * without PostgreSQL, and must never call it: PG errors longjmp, which would
 * skip C++ destructors. A core .cpp that pulls in a PG header (directly or
 * through another header) fails the build here. Core *headers* are also used
 * by the PG zone, so they do not include this file.
 */
#ifndef VX_CPP_ONLY_HPP
#define VX_CPP_ONLY_HPP

#if defined(PG_VERSION_NUM) && !defined(VX_ALLOW_PG_IN_CORE)
#error "Core-zone code must not include PostgreSQL headers (see ARCHITECTURE.md, zones)"
#endif

#endif /* VX_CPP_ONLY_HPP */
