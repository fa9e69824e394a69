#include "tokensource.h"

#include <QFile>
#include <QFileInfo>

#include <qt6keychain/keychain.h>

#include <sys/stat.h>

namespace fleet::tokens {

namespace {

constexpr QLatin1StringView kService("fleet-console");

Result<QString> cleaned(QString token, const QString &source)
{
    token = token.trimmed();
    if (token.isEmpty())
        return Result<QString>::failure(QStringLiteral("%1 is empty: put the API token in it.").arg(source));
    for (const QChar c : std::as_const(token)) {
        if (c.unicode() < 0x21 || c.unicode() > 0x7e)
            return Result<QString>::failure(
                QStringLiteral("%1 holds characters that cannot be in a token (spaces, line breaks or non-ASCII); "
                               "it should hold the token alone.")
                    .arg(source));
    }
    return Result<QString>::success(token);
}

} // namespace

Result<QString> fromEnvironment(const char *variable)
{
    const QByteArray value = qgetenv(variable);
    if (value.isNull())
        return Result<QString>::failure(QStringLiteral("%1 is not set.").arg(QLatin1String(variable)));
    return cleaned(QString::fromLatin1(value), QLatin1String(variable));
}

Result<QString> statusPageKey(const QString &keyFile)
{
    return keyFile.isEmpty() ? fromEnvironment("STATUSPAGE_API_KEY") : fromFile(keyFile);
}

Result<QString> fromFile(const QString &path)
{
    struct stat st
    {
    };
    const QByteArray native = QFile::encodeName(path);
    if (::stat(native.constData(), &st) != 0)
        return Result<QString>::failure(QStringLiteral("Cannot read token file %1: it does not exist.").arg(path));
    if (!S_ISREG(st.st_mode))
        return Result<QString>::failure(QStringLiteral("Token file %1 is not a regular file.").arg(path));
    if (st.st_mode & (S_IRWXG | S_IRWXO)) {
        return Result<QString>::failure(
            QStringLiteral("Token file %1 can be read by other users (mode %2); refusing to use it. "
                           "Run: chmod 600 %1")
                .arg(path, QString::number(st.st_mode & 0777, 8).rightJustified(4, u'0')));
    }
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly))
        return Result<QString>::failure(QStringLiteral("Cannot read token file %1: %2").arg(path, file.errorString()));
    if (file.size() > 16384)
        return Result<QString>::failure(QStringLiteral("Token file %1 is too large to be a token.").arg(path));
    return cleaned(QString::fromLatin1(file.readAll()), QStringLiteral("Token file %1").arg(path));
}

void fromKeychain(const QString &account, QObject *context, std::function<void(Result<QString>)> done)
{
    // The job has no parent: deleting a job while its Secret Service call is pending crashes in QtKeychain's libsecret
    // callback, so it lives until it finishes (auto-delete); the answer goes to `context` only while that exists.
    auto *job = new QKeychain::ReadPasswordJob(kService);
    job->setAutoDelete(true);
    job->setKey(account);
    QObject::connect(job, &QKeychain::Job::finished, context, [job, account, done = std::move(done)] {
        if (job->error() != QKeychain::NoError) {
            // A status page's key is kept as "statuspage/<page id>" (ProfileSettings::keychainAccount).
            const QLatin1String pagePrefix("statuspage/");
            const bool pageKey = account.startsWith(pagePrefix);
            if (job->error() == QKeychain::EntryNotFound)
                done(Result<QString>::failure(pageKey
                        ? QStringLiteral("The keychain has no key for status page \"%1\".")
                              .arg(account.mid(pagePrefix.size()))
                        : QStringLiteral("The keychain has no token for profile \"%1\".").arg(account)));
            else
                done(Result<QString>::failure(QStringLiteral("The desktop keychain is not available (%1). Use %2.")
                                                  .arg(job->errorString(),
                                                      pageKey ? QStringLiteral("STATUSPAGE_API_KEY or a key file")
                                                              : QStringLiteral("FLEET_TOKEN or a token file"))));
            return;
        }
        done(cleaned(job->textData(), QStringLiteral("The keychain entry for profile \"%1\"").arg(account)));
    });
    job->start();
}

void forProfile(const ConnectionProfile &profile, QObject *context, std::function<void(Result<QString>)> done)
{
    switch (profile.tokenFrom) {
    case ConnectionProfile::TokenFrom::File:
        if (profile.tokenFile.trimmed().isEmpty())
            return done(Result<QString>::failure(
                QStringLiteral("Profile \"%1\" names no token file: choose one in File > Connect.").arg(profile.name)));
        return done(fromFile(profile.tokenFile.trimmed()));
    case ConnectionProfile::TokenFrom::Environment:
        return done(fromEnvironment());
    case ConnectionProfile::TokenFrom::Keychain:
        return fromKeychain(profile.name, context, std::move(done));
    }
    done(Result<QString>::failure(
        QStringLiteral("Profile \"%1\" says nothing usable about its token.").arg(profile.name)));
}

void storeInKeychain(
    const QString &account, const QString &token, QObject *context, std::function<void(Result<bool>)> done)
{
    auto *job = new QKeychain::WritePasswordJob(kService); // no parent: see fromKeychain
    job->setAutoDelete(true);
    job->setKey(account);
    job->setTextData(token);
    QObject::connect(job, &QKeychain::Job::finished, context, [job, done = std::move(done)] {
        if (job->error() != QKeychain::NoError)
            done(Result<bool>::failure(
                QStringLiteral("Could not store it in the desktop keychain: %1").arg(job->errorString())));
        else
            done(Result<bool>::success(true));
    });
    job->start();
}

} // namespace fleet::tokens
