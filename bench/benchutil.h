#pragma once

#include <QByteArray>
#include <QFile>

// The resident set size of this process in MB, from /proc/self/status (0 where that cannot be read).
inline double rssMb()
{
    QFile f(QStringLiteral("/proc/self/status"));
    if (!f.open(QIODevice::ReadOnly))
        return 0;
    const QList<QByteArray> lines = f.readAll().split('\n');
    for (const QByteArray &line : lines) {
        if (line.startsWith("VmRSS:"))
            return line.mid(6).trimmed().split(' ').value(0).toDouble() / 1024.0;
    }
    return 0;
}

// How long this thread has been ready to run but waiting for a core, in ms (/proc/thread-self/schedstat, its second
// field); 0 where that cannot be read.
inline double runQueueWaitMs()
{
    QFile f(QStringLiteral("/proc/thread-self/schedstat"));
    if (!f.open(QIODevice::ReadOnly))
        return 0;
    return f.readAll().split(' ').value(1).toDouble() / 1e6;
}
