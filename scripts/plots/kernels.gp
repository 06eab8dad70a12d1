# SPDX-License-Identifier: BSD-3-Clause
# Kernel throughput (bytes read + written per second) against the memory
# limit, the stream copy (and memcpy) of the same run (bench_simd's table,
# via benchjson.py simd + dat).
#   gnuplot -e "dat='bench_simd.dat'; lim='bench_simd_limits.gp'; out='plot-kernels.png'; sub='...'" kernels.gp
# Dashed lines: each type's stream copy (the first bars are the stream copy
# and memcpy rows themselves).
if (!exists("sub")) sub = ""
set terminal pngcairo size 1100,600 font "sans,10"
set output out
# the limits, per type: stream_f32, memcpy_f32, stream_f64, memcpy_f64
load lim
set title "bench\\_simd: kernel throughput against the memory limit\n{/*0.8 ".sub."}"
set ylabel "GB/s (read + written, median)"
set yrange [0:*]
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.85 border -1
set boxwidth 0.9
set xtics rotate by -40 left noenhanced
set grid ytics
set key top right
set rmargin 9
set bmargin 7
set arrow 1 from graph 0, first stream_f32 to graph 1, first stream_f32 nohead lw 2 dt 2 lc rgb "#2471a3" front
set arrow 2 from graph 0, first stream_f64 to graph 1, first stream_f64 nohead lw 2 dt 2 lc rgb "#e67e22" front
set label 1 sprintf("memory limit (stream copy): f32 %.1f, f64 %.1f GB/s; memcpy %.1f, %.1f GB/s", \
    stream_f32, stream_f64, memcpy_f32, memcpy_f64) at graph 0.01, graph 0.96 front
plot dat using 2:xtic(1) title "float32" lc rgb "#2471a3", \
     '' using 3 title "float64" lc rgb "#e67e22"
