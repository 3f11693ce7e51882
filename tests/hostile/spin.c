/* spin.c - hostile submission: an endless CPU loop, no output.
 * The grader must stop it at the time limit and say so.
 * See also: tests/check_hostile.c.
 */
int main(void)
{
    volatile unsigned long n = 0;
    for (;;)
        n++;
}
