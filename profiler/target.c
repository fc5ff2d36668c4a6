#include "target.h"
