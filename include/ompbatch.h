/* SPDX-License-Identifier: BSD-3-Clause */
/* ompbatch: batches of independent tasks on an OpenMP thread team.
 * The only header users include. The MPI backend's declarations come in
 * when <mpi.h> was included first (or OMPB_WITH_MPI is defined). */
#ifndef OMPBATCH_H
#define OMPBATCH_H

#include "ompbatch/version.h"
#include "ompbatch/error.h"
#include "ompbatch/pool.h"
#include "ompbatch/batch.h"
#include "ompbatch/map.h"
#include "ompbatch/simd.h"
#include "ompbatch/expr.h"
#if defined(MPI_VERSION) || defined(OMPB_WITH_MPI)
#include "ompbatch/mpi.h"
#endif

#endif /* OMPBATCH_H */
