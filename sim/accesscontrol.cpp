#include "accesscontrol.h"

#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

#include <cmath>

namespace fleet::sim {

Status AccessControl::addTokenSpec(const QString &spec)
{
    const QStringList parts = spec.split(u':');
    const auto role = parts.isEmpty() ? std::nullopt : roleFromString(parts.first());
    if (parts.size() < 2 || parts.size() > 3 || !role || parts[1].isEmpty()) {
        return Status::failure(
            QStringLiteral("--token expects ROLE:TOKEN or ROLE:TOKEN:NAME with ROLE viewer, operator or admin "
                           "(got \"%1\")")
                .arg(parts.isEmpty() ? QString() : parts.first() + QStringLiteral(":...")));
    }
    addToken(parts[1], *role, parts.size() == 3 ? parts[2] : QString());
    return Status::success();
}

void AccessControl::addToken(const QString &token, Role role, const QString &name)
{
    Identity id;
    id.name = name.isEmpty() ? QStringLiteral("%1-user").arg(wireName(role)) : name;
    id.id = id.name;
    id.role = role;
    m_tokens.insert(token, id);
}

Status AccessControl::loadTokenFile(const QString &path)
{
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly))
        return Status::failure(QStringLiteral("Cannot read token file %1: %2").arg(path, file.errorString()));
    const QJsonArray tokens = QJsonDocument::fromJson(file.readAll()).object().value(QLatin1String("tokens")).toArray();
    if (tokens.isEmpty())
        return Status::failure(
            QStringLiteral("Token file %1 has no \"tokens\" array (see docs/fleet-sim.md)").arg(path));
    for (int i = 0; i < tokens.size(); ++i) {
        const QJsonObject o = tokens.at(i).toObject();
        const QString token = o.value(QLatin1String("token")).toString();
        const auto role = roleFromString(o.value(QLatin1String("role")).toString());
        if (token.isEmpty() || !role)
            return Status::failure(QStringLiteral("Token file %1: tokens[%2] needs a non-empty \"token\" and a "
                                                  "\"role\" of viewer, operator or admin")
                                       .arg(path)
                                       .arg(i));
        addToken(token, *role, o.value(QLatin1String("name")).toString());
    }
    return Status::success();
}

void AccessControl::addDefaultTokens()
{
    addToken(QStringLiteral("view-secret"), Role::Viewer, QStringLiteral("demo-viewer"));
    addToken(QStringLiteral("op-secret"), Role::Operator, QStringLiteral("demo-operator"));
    addToken(QStringLiteral("admin-secret"), Role::Admin, QStringLiteral("demo-admin"));
}

QList<Identity> AccessControl::identities() const
{
    return m_tokens.values();
}

std::optional<Identity> AccessControl::identify(const QString &token) const
{
    const auto it = m_tokens.constFind(token);
    if (it == m_tokens.constEnd())
        return std::nullopt;
    return *it;
}

int AccessControl::admit(const QString &token)
{
    if (m_rate <= 0)
        return 0;
    if (!m_clock.isValid())
        m_clock.start();
    const qint64 now = m_clock.elapsed();
    const double burst = std::max(1.0, m_rate * 2);
    auto it = m_buckets.find(token);
    if (it == m_buckets.end())
        it = m_buckets.insert(token, { burst, now });
    Bucket &b = *it;
    b.tokens = std::min(burst, b.tokens + double(now - b.lastMs) / 1000.0 * m_rate);
    b.lastMs = now;
    if (b.tokens >= 1) {
        b.tokens -= 1;
        return 0;
    }
    return std::max(1, int(std::ceil((1 - b.tokens) / m_rate)));
}

} // namespace fleet::sim
