#!/bin/sh
# setup.sh - Gradescope autograder set-up (runs once, as root, on Gradescope's
# Ubuntu image): installs what the grader needs and builds it.
# See also: run_autograder, tools/gradescope/make-zip, README.md (instructors).
set -eu
cd "$(dirname "$0")"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq build-essential valgrind >/dev/null
make -C kit -s grader
