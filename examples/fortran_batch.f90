! SPDX-License-Identifier: BSD-3-Clause
! ompbatch from Fortran: a batch of tasks started from inside the program's
! own `!$omp parallel` region (it runs in that team: no oversubscription,
! no deadlock), then `sin` mapped over a 2-D array with the SIMD kernels.
! Build after `make install PREFIX=$P`:
!   gfortran -fopenmp fortran_batch.f90 $(pkg-config --cflags --libs ompbatch)
module fortran_batch_tasks
  use, intrinsic :: iso_c_binding
  use ompbatch
  implicit none
contains
  ! Task i: a partial sum of the series for pi^2/6 over its own stride.
  function partial_sum(index, arg, value) result(rc) bind(c)
    integer(c_size_t), value :: index
    type(c_ptr), value :: arg
    real(c_double), intent(inout) :: value
    integer(c_int) :: rc
    integer, pointer :: ntasks
    integer(c_int64_t) :: k
    call c_f_pointer(arg, ntasks)
    value = 0
    do k = index, 4000000, ntasks
      value = value + 1.0d0 / (real(k, c_double)**2)
    end do
    rc = 0
  end function
end module fortran_batch_tasks

program fortran_batch
  use, intrinsic :: iso_c_binding
  use omp_lib
  use ompbatch
  use fortran_batch_tasks
  implicit none
  integer, parameter :: ntasks = 64
  integer, target :: nt = ntasks
  type(ompbatch_pool) :: pool
  type(ompbatch_result) :: res
  type(c_ptr) :: args(ntasks)
  real(c_float), allocatable :: x(:, :), y(:, :)
  real(c_double) :: total, u4, u8, worst
  integer :: rc, team, i, j

  if (ompbatch_pool_create(pool) /= OMPB_OK) error stop 'pool'
  args = c_loc(nt)
  rc = -1
  team = 0
  !$omp parallel
  ! ... the program's own parallel work would be here ...
  !$omp single
  team = omp_get_num_threads()
  ! One thread starts the batch; the team's other threads, waiting at the
  ! end of `single`, run its tasks.
  rc = ompbatch_exec_batch(pool, partial_sum, ntasks, res, args)
  !$omp end single
  !$omp end parallel
  if (rc /= OMPB_OK .or. .not. res%all_succeeded) error stop 'batch'
  total = sum(res%values)
  call ompbatch_result_free(res)
  print '(a,i0,a,i0,a,f12.9,a,f12.9,a)', 'batch: ', ntasks, ' tasks in a team of ', team, &
    ': sum 1/k^2 = ', total, ' (pi^2/6 = ', acos(-1.0d0)**2 / 6, ')'
  if (abs(total - acos(-1.0d0)**2 / 6) > 1d-6) error stop 'series'

  allocate(x(512, 384), y(512, 384))
  do j = 1, 384
    do i = 1, 512
      x(i, j) = 0.01 * i - 0.02 * j
    end do
  end do
  rc = ompbatch_map('sin', x, y, pool=pool)
  if (rc /= OMPB_OK) error stop 'map'
  rc = ompbatch_kernel_ulp('sin', u4, u8)
  worst = maxval(abs(real(y, c_double) - sin(real(x, c_double))) / spacing(sin(x)))
  print '(a,f5.2,a,f4.1,a)', 'map: sin over 512x384 floats, max error ', worst, &
    ' ULP (documented bound ', u4, ' ULP, +0.5 for the reference)'
  if (worst > u4 + 0.5d0) error stop 'accuracy'
  call ompbatch_pool_destroy(pool)
end program fortran_batch
