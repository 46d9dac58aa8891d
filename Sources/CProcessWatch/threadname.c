#include <sys/prctl.h>
#include "cprocesswatch.h"

int vp_set_thread_name(const char *name) {
    return prctl(PR_SET_NAME, name, 0, 0, 0);
}
