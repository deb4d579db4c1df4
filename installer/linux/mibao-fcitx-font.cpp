/*
 * MiBao's own parseFont for the fcitx5-qt candidate window (fcitx5-qt/platforminputcontext/
 * fcitxtheme.cpp calls it for the theme's "Font" entry). Upstream's font.cpp is
 * GPL-2.0-or-later while the rest of the plugin is BSD-3-Clause; MiBao is not GPL, so the
 * package carries this file instead (installer/linux/fcitx5-qt/README.md).
 *
 * The string is a Pango font description as fcitx writes it: "Family [Style words] [Size]",
 * e.g. "Noto Sans CJK SC Bold 12". Words after the family that name a weight or a slant set
 * them; a trailing whole number is the size in points.
 */
#include <QFont>
#include <QString>
#include <QStringList>

namespace fcitx {

QFont parseFont(const QString &description);

namespace {

bool styleWord(const QString &word, QFont &font) {
    static const struct {
        const char *name;
        QFont::Weight weight;
    } weights[] = {
        {"thin", QFont::Thin},           {"ultra-light", QFont::Thin},
        {"extra-light", QFont::ExtraLight}, {"light", QFont::Light},
        {"semi-light", QFont::Light},    {"demi-light", QFont::Light},
        {"book", QFont::Light},          {"regular", QFont::Normal},
        {"normal", QFont::Normal},       {"medium", QFont::Medium},
        {"semi-bold", QFont::DemiBold},  {"demi-bold", QFont::DemiBold},
        {"bold", QFont::Bold},           {"extra-bold", QFont::ExtraBold},
        {"ultra-bold", QFont::ExtraBold}, {"heavy", QFont::Black},
        {"black", QFont::Black},         {"ultra-black", QFont::Black},
        {"extra-black", QFont::Black},
    };
    const QString lower = word.toLower();
    for (const auto &w : weights) {
        if (lower == QLatin1String(w.name)) {
            font.setWeight(w.weight);
            return true;
        }
    }
    if (lower == QLatin1String("italic")) {
        font.setStyle(QFont::StyleItalic);
        return true;
    }
    if (lower == QLatin1String("oblique")) {
        font.setStyle(QFont::StyleOblique);
        return true;
    }
    return false;
}

} // namespace

QFont parseFont(const QString &description) {
    QStringList words = description.split(QLatin1Char(' '), Qt::SkipEmptyParts);
    QFont font;
    font.setWeight(QFont::Normal);
    font.setStyle(QFont::StyleNormal);
    int points = 9;  // fcitx's own default
    bool isNumber = false;
    if (!words.isEmpty()) {
        const int last = words.last().toInt(&isNumber);
        if (isNumber) {
            if (last > 0)
                points = last;
            words.removeLast();
        }
    }
    while (!words.isEmpty() && styleWord(words.last(), font))
        words.removeLast();
    font.setFamily(words.join(QLatin1Char(' ')));
    font.setPointSize(points);
    return font;
}

} // namespace fcitx
