#!/usr/bin/env bash
# plot.sh DATA PNG TITLE: horizontal-ish bar chart of "label<TAB>seconds" lines (gnuplot-nox).
set -euo pipefail
gnuplot <<EOT
set terminal png size 900,420
set output "$2"
set title "$3"
set style data histograms
set style fill solid 0.8
set boxwidth 0.7
set ylabel "cold start to ready (s)"
set xtics rotate by -20 font ",9"
set datafile separator "\t"
set grid ytics
unset key
plot "$1" using 2:xtic(1) lc rgb "#3070b0"
EOT
