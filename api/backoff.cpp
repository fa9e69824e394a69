#include "backoff.h"

#include <algorithm>

namespace fleet {

Backoff::Backoff(int baseMs, int capMs, quint64 seed)
    : m_baseMs(std::max(baseMs, kFloorMs))
    , m_capMs(std::max(capMs, kFloorMs))
    , m_rng(seed)
{
}

void Backoff::setBaseMs(int ms)
{
    m_baseMs = std::clamp(ms, kFloorMs, m_capMs);
}

int Backoff::nextDelayMs()
{
    const int shift = std::min(m_attempt, 20);
    const qint64 ceiling = std::min<qint64>(m_capMs, qint64(m_baseMs) << shift);
    ++m_attempt;
    std::uniform_int_distribution<qint64> draw(kFloorMs, std::max<qint64>(kFloorMs, ceiling));
    return int(draw(m_rng));
}

} // namespace fleet
