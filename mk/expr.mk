# SPDX-License-Identifier: BSD-3-Clause
# The expression evaluator's block operations: kernels/expr_ops.c compiled
# once per ISA with the kernels' flags (kernels/kernels.mk: KERNEL_ISAS,
# ISAFLAGS_<isa>, KERNEL_CFLAGS), and the lookup that follows the kernels'
# choice of ISA. The evaluator itself is src/expr_*.c and src/work_expr.c
# (picked up with every src/*.c).

EXPR_OPS_OBJS := $(KERNEL_ISAS:%=$(KDIR)/expr_ops_%.o) $(KDIR)/expr_dispatch.o
LIB_OBJS += $(EXPR_OPS_OBJS)

$(KERNEL_ISAS:%=$(KDIR)/expr_ops_%.o): $(KDIR)/expr_ops_%.o: kernels/expr_ops.c $(FLAGS_STAMP)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(KERNEL_CFLAGS) $(ISAFLAGS_$*) -c $< -o $@

$(KDIR)/expr_dispatch.o: CPPFLAGS += \
  $(foreach i,$(filter-out scalar,$(KERNEL_ISAS)),-DOMPB_KERNELS_HAVE_$(shell echo $(i) | tr a-z A-Z))

-include $(EXPR_OPS_OBJS:.o=.d)
