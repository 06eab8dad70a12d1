# SPDX-License-Identifier: BSD-3-Clause
# Per-task cost of a no-op batch against the batch size, beside the raw
# OpenMP baselines of the same run (bench_batch --json, via benchjson.py dat).
#   gnuplot -e "dat='bench_batch.dat'; out='plot-batch.png'; sub='...'" batch.gp
if (!exists("sub")) sub = ""
set terminal pngcairo size 900,560 font "sans,11"
set output out
set title "bench\\_batch: cost per no-op task against batch size\n{/*0.8 ".sub."}"
set logscale xy
set xlabel "tasks in the batch"
set ylabel "ns per task (median)"
set format x "10^{%T}"
set grid xtics ytics mytics
set key bottom left
set style data linespoints
plot dat using 1:2 title "ompbatch (ompb\\_exec\\_batch)" lw 3 pt 7 lc rgb "#c0392b", \
     dat using 1:3 title "raw: omp task per item" lw 2 pt 5 lc rgb "#2471a3", \
     dat using 1:4 title "raw: for schedule(dynamic,1)" lw 2 pt 9 lc rgb "#239b56", \
     dat using 1:5 title "raw: for schedule(guided)" lw 2 pt 11 lc rgb "#7d3c98"
