#pragma once

#include <QtGlobal>

#include <random>

namespace fleet {

// Reconnect delays: exponential with full jitter (a uniform draw from 0 to min(cap, base * 2^attempt)), with a
// floor so that a broken server is never hammered. The server's SSE `retry:` replaces the base.
class Backoff
{
public:
    explicit Backoff(int baseMs = 1000, int capMs = 30000, quint64 seed = std::random_device {}());

    int nextDelayMs(); // advances the attempt count
    void reset() { m_attempt = 0; }
    int attempt() const { return m_attempt; }
    void setBaseMs(int ms);
    int baseMs() const { return m_baseMs; }
    int capMs() const { return m_capMs; }
    static constexpr int kFloorMs = 100;

private:
    int m_baseMs;
    int m_capMs;
    int m_attempt = 0;
    std::mt19937_64 m_rng;
};

} // namespace fleet
