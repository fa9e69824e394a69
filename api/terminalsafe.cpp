#include "terminalsafe.h"

#include <QCoreApplication>
#include <QSocketNotifier>

#include <algorithm>
#include <csignal>
#include <fcntl.h>
#include <unistd.h>

namespace fleet {

QString terminalSafe(const QString &text, qsizetype maxChars)
{
    QString out;
    const qsizetype shown = std::min(text.size(), std::max<qsizetype>(maxChars, 0));
    out.reserve(shown);
    for (qsizetype i = 0; i < shown; ++i) {
        const QChar c = text[i];
        const char16_t u = c.unicode();
        if (u == '\n')
            out += QStringLiteral("\\n");
        else if (u == '\r')
            out += QStringLiteral("\\r");
        else if (u == '\t')
            out += QStringLiteral("\\t");
        else if (u == 0x1b)
            out += QStringLiteral("\\e");
        else if (u < 0x20 || u == 0x7f || (u >= 0x80 && u < 0xa0) || u == 0x061c || (u >= 0x200b && u <= 0x200f)
            || (u >= 0x2028 && u <= 0x202e) || (u >= 0x2066 && u <= 0x2069) || u == 0xfeff)
            out += QStringLiteral("\\u{%1}").arg(int(u), 0, 16);
        else if (u == '\\')
            out += QStringLiteral("\\\\");
        else
            out += c;
    }
    if (shown < text.size())
        out += QStringLiteral("... (%1 more characters)").arg(text.size() - shown);
    return out;
}

QString boundedText(const QString &text, qsizetype limit)
{
    return text.size() <= limit ? text : text.left(limit) + QStringLiteral("...");
}

QString shellQuoted(const QString &text)
{
    static const QString plain
        = QStringLiteral("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.,:/@%+=");
    const bool safe
        = !text.isEmpty() && std::all_of(text.begin(), text.end(), [](QChar c) { return plain.contains(c); });
    if (safe)
        return text;
    QString quoted = text;
    quoted.replace(u'\'', QStringLiteral("'\\''"));
    return u'\'' + quoted + u'\'';
}

namespace {

int g_signalPipe[2] = { -1, -1 };

void writeToPipe(int)
{
    const char byte = 1;
    [[maybe_unused]] const ssize_t n = ::write(g_signalPipe[1], &byte, 1);
}

} // namespace

void onTerminationSignal(const std::function<void()> &onSignal)
{
    if (g_signalPipe[0] < 0) {
        if (::pipe(g_signalPipe) != 0)
            return;
        ::fcntl(g_signalPipe[1], F_SETFL, O_NONBLOCK);
    }
    auto *notifier = new QSocketNotifier(g_signalPipe[0], QSocketNotifier::Read, QCoreApplication::instance());
    QObject::connect(notifier, &QSocketNotifier::activated, notifier, [onSignal] {
        char byte = 0;
        [[maybe_unused]] const ssize_t n = ::read(g_signalPipe[0], &byte, 1);
        onSignal();
    });
    struct sigaction action
    {
    };
    action.sa_handler = writeToPipe;
    sigemptyset(&action.sa_mask);
    action.sa_flags = SA_RESTART;
    ::sigaction(SIGINT, &action, nullptr);
    ::sigaction(SIGTERM, &action, nullptr);
}

} // namespace fleet
