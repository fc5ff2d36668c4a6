#include "symbols.h"
