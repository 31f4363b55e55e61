/* Placeholder while it is written. */
#include "cluster.h"
