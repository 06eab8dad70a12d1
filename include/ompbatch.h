/* ompbatch: batches of independent tasks on an OpenMP thread team.
 * The only header users include. */
#ifndef OMPBATCH_H
#define OMPBATCH_H

#include "ompbatch/error.h"
#include "ompbatch/pool.h"
#include "ompbatch/batch.h"
#include "ompbatch/map.h"
#include "ompbatch/simd.h"

#endif /* OMPBATCH_H */
