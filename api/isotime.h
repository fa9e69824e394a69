#pragma once

#include <QByteArray>
#include <QString>
#include <QStringView>

#include <optional>

namespace fleet {

// Appends msecsSinceEpoch as "2025-11-12T09:13:00Z" (milliseconds only when not zero). Fast: no QDateTime.
void appendIsoUtc(QByteArray *out, qint64 msecsSinceEpoch);
QString formatIsoUtc(qint64 msecsSinceEpoch);

// Parses an RFC 3339 date-time with an explicit offset ("Z" or "+02:00"). Returns std::nullopt otherwise.
std::optional<qint64> parseIsoUtc(QStringView text);

} // namespace fleet
