/* Placeholder while it is written. */
#include "net.h"
