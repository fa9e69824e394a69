#pragma once

#include <QPointF>

#include <vector>

namespace fleet {

// M4 reduction for charts: per pixel column, the first, minimum, maximum and last point, in time order, so that a
// line drawn through the result looks like one drawn through every point. NaN is a gap: it is never joined
// across; a gap inside the range becomes one NaN point at the gap's start.
//
// `values[i]` is the value at time `t0 + i * stepSeconds`; the result's x is that time in seconds.
std::vector<QPointF> reduceM4(const float *values, int count, double t0, double stepSeconds, int columns);

} // namespace fleet
