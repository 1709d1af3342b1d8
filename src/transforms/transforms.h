/*
 * transforms.h — the transform definitions of src/transforms/ (one file
 * each). Transforms see the engine only, never the connectors.
 */
#ifndef WIRE_TRANSFORMS_H
#define WIRE_TRANSFORMS_H

#include "engine/engine.h"

extern const wire_transform_def wire_transform_filter;
extern const wire_transform_def wire_transform_map;

#endif
