# SPDX-License-Identifier: BSD-3-Clause
# ompbatch build settings. Settings and toggles only; the rules are in Makefile.
# Comments stay on their own lines: a trailing comment would leave spaces in
# the value and break ifeq.

# Install prefix and staging directory
PREFIX ?= /usr/local
DESTDIR ?=

# All build output goes here
BUILD ?= build

# Compiler; gcc with libgomp is the reference toolchain
ifeq ($(origin CC),default)
CC = gcc
endif

# Optimisation and debug flags
OPT ?= -O2 -g

# SLEEF vector math for the SIMD kernels (1 or 0)
WITH_SLEEF ?= 1

# MPI backend: 1 builds it, 0 skips it, auto builds it when mpicc.mpich exists
WITH_MPI ?= auto

# MPI compiler wrapper and launcher: MPICH's suffixed tools (docs/mpi.md,
# "What the backend rests on")
MPICC ?= mpicc.mpich
MPIEXEC ?= mpiexec.mpich

# Sanitizer build: empty, address (ASan+UBSan, gcc) or thread (TSan, clang+libomp+Archer)
SAN ?=

# Install missing Debian packages automatically (1) or only report them (0)
AUTO_DEPS ?= 1
