/* The cluster coordinator (issue #5): placeholder header while it is written. */
#pragma once

#include "node.h"
