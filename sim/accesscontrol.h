#pragma once

#include "result.h"

#include "fleettypes.h"

#include <QElapsedTimer>
#include <QHash>
#include <QString>

#include <optional>

namespace fleet::sim {

// Bearer tokens, the identities and roles behind them, and a per-token request rate limit.
class AccessControl
{
public:
    // "ROLE:TOKEN" or "ROLE:TOKEN:NAME".
    Status addTokenSpec(const QString &spec);
    void addToken(const QString &token, Role role, const QString &name);
    // JSON file: {"tokens": [{"token": "...", "role": "operator", "name": "alice"}]}
    Status loadTokenFile(const QString &path);
    void addDefaultTokens(); // view-secret, op-secret, admin-secret (documented in docs/fleet-sim.md)
    bool isEmpty() const { return m_tokens.isEmpty(); }
    QList<Identity> identities() const;

    std::optional<Identity> identify(const QString &token) const;

    // Requests per second per token; 0 turns limiting off.
    void setRateLimit(double requestsPerSecond) { m_rate = requestsPerSecond; }
    // Takes one request from the token's bucket; returns 0 when allowed, else the seconds to wait.
    int admit(const QString &token);

private:
    struct Bucket
    {
        double tokens = 0;
        qint64 lastMs = 0;
    };

    QHash<QString, Identity> m_tokens;
    QHash<QString, Bucket> m_buckets;
    double m_rate = 0;
    QElapsedTimer m_clock;
};

} // namespace fleet::sim
