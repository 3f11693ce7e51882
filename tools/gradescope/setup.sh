#!/bin/sh
# setup.sh - Gradescope autograder set-up (runs once, as root, on Gradescope's
# Ubuntu image): installs what the grader needs and builds it. Says so, in the
# build's log, when the image has fewer than 2 usable CPUs (run_autograder
# then tells the instructors in each result too).
# See also: run_autograder, tools/gradescope/make-zip, handouts/instructors.md.
set -eu
cd "$(dirname "$0")"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq build-essential valgrind >/dev/null
make -C kit -s grader
cpus=$(kit/grader/grade --cpus)
if [ "$cpus" -lt 2 ]; then
    echo "setup.sh: WARNING: $cpus usable CPU here: the parallelism checks will be 'not judged' (0 points)." \
         "Give the autograder 2 CPUs or more in the assignment's settings."
fi
