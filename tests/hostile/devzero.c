/* devzero.c - hostile submission: includes a file without end. Without
 * limits cc1 grows past 4 GiB for a minute; the build's memory limit must
 * stop it in seconds and the build failure must say so.
 * See also: tests/check_hostile.c, grader/build.c.
 */
#include "/dev/zero"
