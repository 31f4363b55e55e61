/* Placeholder while it is written. */
#include "replica.h"
