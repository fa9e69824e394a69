#include "m4.h"

#include <cmath>
#include <limits>

namespace fleet {

std::vector<QPointF> reduceM4(const float *values, int count, double t0, double stepSeconds, int columns)
{
    std::vector<QPointF> out;
    if (count <= 0 || columns <= 0)
        return out;
    out.reserve(std::size_t(std::min(count, columns * 4 + 16)));
    const double nan = std::numeric_limits<double>::quiet_NaN();
    bool inGap = false;
    // One run = consecutive non-NaN points within one column. Emit first, min, max, last of each run.
    int runStart = -1;
    int runMin = -1;
    int runMax = -1;
    int column = -1;
    auto flush = [&](int runEnd) {
        if (runStart < 0)
            return;
        int order[4] = { runStart, runMin, runMax, runEnd };
        if (order[1] > order[2])
            std::swap(order[1], order[2]);
        int previous = -1;
        for (int i : order) {
            if (i != previous)
                out.emplace_back(t0 + i * stepSeconds, double(values[i]));
            previous = i;
        }
        runStart = -1;
    };
    int last = -1;
    // Column c holds the points i with floor(i * columns / count) == c: from ceil(c * count / columns) on. The
    // bounds are computed once per column, so the inner loop has no division.
    for (int c = 0, i = 0; c < columns && i < count; ++c) {
        const int end = int((std::int64_t(c + 1) * count + columns - 1) / columns);
        for (; i < end && i < count; ++i) {
            const float v = values[i];
            if (std::isnan(v)) {
                if (runStart >= 0)
                    flush(last);
                if (!inGap && !out.empty())
                    out.emplace_back(t0 + i * stepSeconds, nan); // a gap marker: the chart lifts its pen here
                inGap = true;
                continue;
            }
            if (c != column && runStart >= 0)
                flush(last);
            column = c;
            inGap = false;
            if (runStart < 0) {
                runStart = runMin = runMax = i;
            } else {
                if (v < values[runMin])
                    runMin = i;
                if (v > values[runMax])
                    runMax = i;
            }
            last = i;
        }
    }
    flush(last);
    if (!out.empty() && std::isnan(out.back().y()))
        out.pop_back(); // a trailing gap is simply where the data ends
    return out;
}

} // namespace fleet
