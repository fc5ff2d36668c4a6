#include "unwind.h"
