/* hints.h - one catalogue of hints, keyed by failure signature, so the same
 * mistake reads the same in every lab, in the report and in the handouts
 * (handouts/hints.md is generated from it: grade --list-hints).
 * See also: hints.c.
 */
#ifndef GRADER_HINTS_H
#define GRADER_HINTS_H

#include <stddef.h>

struct hint {
    const char *id;     /* failure signature, e.g. "sequential-wait" */
    const char *text;   /* names the likely mistake and the fix */
};

/* The hint with this id, or NULL. */
const struct hint *hint_find(const char *id);
extern const struct hint hint_catalogue[];
extern const size_t nhints;

#endif
