"""Actions written only in prose: a person does them (blind round 8).

A rollout done in a web console is written as sentences, not commands: "Add the group to
the policy's scope.", "Click **Promote**.", "Jamf Pro の管理画面でスコープに `Pilot-IT` を追加
する。", "Cliquez sur « Publier ».". A section whose procedure is such sentences (paragraphs,
bulleted or numbered items, no fence) would be an empty phase that passes at once, and the run
would go on as if the groups were scoped. It is a step a person does and acknowledges at its
place (a ``pause: approve``); and a plan whose rollout is partly done by hand is not
"executable as written" (report ``by_hand``, read by provenance.verdict).

An action is an imperative sentence: a verb of doing first (English and the Latin-script
languages, Russian, Arabic, Chinese) or last (Japanese, Korean, Turkish, Hindi), in the
forms a procedure uses. Sentences that introduce what follows ("Run the following:") are
lead-ins, not actions; descriptions ("The policy runs every 15 minutes.") start with no verb.
"""

from __future__ import annotations

import re

from phasegate.markdown import rules
from phasegate.markdown.memo import memo

# what may stand before the verb: "Then,", "Next", "In the Jamf Pro console,", "From the
# Releases page,", a numbering the parser left ("1)", "Step 2:")
_OPENING = (
    r"^(?:(?:step\s*)?\d{1,2}[.):]\s*)?"
    r"(?:(?:then|next|now|finally|first|afterwards?|after that|once done)\s*,?\s+)?"
    r"(?:(?:in|on|from|under|via|inside|within|at)\s+(?:the\s+)?[^,.:;]{1,60},\s*)?"
    r"(?:please\s+)?"
)
_EN_VERBS = (
    r"click|double-click|right-click|open|select|choose|pick|navigate to|go to|browse to|"
    r"log ?in(?:to)?|sign ?in(?:to)?|add|remove|change|set|enable|disable|toggle|"
    r"turn (?:on|off)|switch|press|tap|upload|assign|scope|unscope|create|delete|edit|update|"
    r"save|submit|publish|promote|approve|drag|move|tick|uncheck|expand|configure|fill in|"
    r"rename|invite|grant|revoke|schedule|flip|exclude|include|attach|detach|archive|"
    r"deploy|release|roll out|restart|reboot|install|uninstall|upgrade"
)
_LATIN_FIRST = re.compile(
    _OPENING
    + r"(?:"
    + _EN_VERBS
    + r")\b(?![-:(])(?!\s+(?:to\s+)?(?:step|section|phase|stage)?\s*\d)"
    # German: "Klicken Sie auf …", "Öffne …"
    r"|^(?:dann|danach|anschließend)?\s*,?\s*(?:(?:klicken|öffnen|wählen|fügen|entfernen|ändern|"
    r"setzen|aktivieren|deaktivieren|navigieren|gehen|melden|tragen|laden|weisen)\s+sie\b|"
    r"(?:klicke|öffne|wähle|füge|entferne|ändere|setze|aktiviere|deaktiviere|gehe|melde)\b)"
    # French
    r"|^(?:puis|ensuite|enfin)?\s*,?\s*(?:cliquez|ouvrez|sélectionnez|ajoutez|supprimez|"
    r"retirez|modifiez|changez|activez|désactivez|allez|connectez-vous|choisissez|basculez|"
    r"cochez|décochez|saisissez|renseignez|publiez|assignez|attribuez)\b"
    # Spanish
    r"|(?:^|\s)(?:haga|haz)\s+clic\b"
    r"|^(?:luego|después|entonces)?\s*,?\s*(?:abra|seleccione|selecciona|añada|añade|agregue|"
    r"agrega|elimine|quite|quita|cambie|desactive|desactiva|vaya a|inicie sesión|"
    r"inicia sesión|elija|elige|marque|asigne|asigna)\b"
    # Portuguese
    r"|^(?:depois|então|em seguida)?\s*,?\s*(?:clique|selecione|adicione|remova|altere|mude|"
    r"ative|desative|acesse|vá para|faça login|escolha|desmarque|atribua)\b"
    # Italian
    r"|(?:^|\s)fai\s+clic\b"
    r"|^(?:poi|quindi|infine)?\s*,?\s*(?:clicca|apri|seleziona|aggiungi|rimuovi|modifica|"
    r"attiva|disattiva|vai su|vai a|accedi|scegli|spunta|assegna)\b"
    # Dutch
    r"|^(?:daarna|dan|vervolgens)?\s*,?\s*(?:klik|selecteer|voeg|verwijder|wijzig|schakel|"
    r"ga naar|kies|vink|wijs)\b"
    # Vietnamese
    r"|^(?:sau đó|tiếp theo)?\s*,?\s*(?:nhấn|bấm|nhấp|mở|chọn|thêm|xóa|xoá|đổi|thay đổi|bật|"
    r"tắt|vào|truy cập|đăng nhập)\b"
    # Polish
    r"|^(?:następnie|potem)?\s*,?\s*(?:kliknij|otwórz|wybierz|dodaj|usuń|zmień|włącz|wyłącz|"
    r"przejdź|zaloguj się|przypisz)\b"
    # Russian, Ukrainian
    r"|^(?:затем|далее|потім)?\s*,?\s*(?:нажмите|откройте|выберите|добавьте|удалите|измените|"
    r"включите|выключите|отключите|перейдите|войдите|натисніть|відкрийте|виберіть|додайте|"
    r"видаліть|змініть|увімкніть|вимкніть|перейдіть)(?!\w)"
    # Arabic
    r"|^(?:ثم\s+)?(?:انقر|اضغط|افتح|اختر|أضف|احذف|غيّر|فعّل|عطّل|انتقل)(?!\w)",
    re.I,
)
# a verb of doing last: Japanese (dictionary, polite and request forms), Korean, Turkish, Hindi
_VERB_LAST = re.compile(
    r"(?:追加|変更|削除|選択|クリック|実行|設定|適用|有効化|無効化|登録|解除|移動|公開|承認|配布|"
    r"割り当て|切り替え|指定|除外|展開|再起動)(?:する|します|してください|して下さい|を行う|"
    r"を行います)$"
    r"|(?:開く|開きます|開いてください|押す|押します|押してください|外す|外します|外してください|"
    r"選ぶ|選びます|入れる|入れます)$"
    r"|(?:클릭|선택|추가|변경|삭제|제거|설정|활성화|비활성화|이동|배포|적용|할당)(?:합니다|하세요|"
    r"하십시오|한다|해 주세요|해주세요)$"
    r"|(?:엽니다|여세요|누릅니다|누르세요)$"
    r"|(?:tıklayın|açın|seçin|ekleyin|kaldırın|silin|değiştirin|etkinleştirin|gidin|atayın)$"
    r"|(?:click|select|add|remove|change|open|enable|disable|assign)\s+(?:karo|karein|karen|"
    r"kijiye|kar do|kar dein)$"
    r"|(?:करें|करो|कीजिए|खोलें|चुनें|जोड़ें|हटाएं)$",
    re.I,
)
# Chinese: a verb first, after "然后", "在 … 中"
_ZH_FIRST = re.compile(
    r"^(?:然后|接着|再|先|首先)?[，,]?\s*(?:在[^，。,]{1,40}[，,]?\s*)?"
    r"(?:点击|单击|打开|选择|进入|登录|添加|删除|移除|修改|更改|启用|禁用|切换|勾选)"
)
# what is no action of a person's: a description of automation, a request to read
_NOT_AN_ACTION = re.compile(
    r"自動|自动|automatic|\bwill\b|\bis (?:done|run|applied)\b|\bsee\b|\brefer\b|\bnote\b",
    re.I,
)
_MANUALLY = re.compile(
    r"\b(?:manually|by hand|von hand|manuell|manuellement|à la main|manualmente|a mano|"
    r"handmatig|r[eę]cznie|ru[čc]n[eě]|вручную|вручну)\b|手動で|手动|수동으로",
    re.I,
)
_UI = re.compile(r"^(?:click|double-click|right-click|tap|press|select|choose)\b", re.I)
_RUNBOOK_LINK = re.compile(r"\]\([^)\s]*\.(?:md|markdown|mdx|adoc|rst)(?:#[^)]*)?\)", re.I)
_SENTENCES = re.compile(r"(?<=[.!?])\s+|(?<=[。！？])")


def sentences(text: str) -> list[str]:
    """The sentences of a paragraph, Markdown marks removed, on one line each."""
    plain = " ".join(_plain(text).split())
    return [s.strip() for s in _SENTENCES.split(plain) if s.strip()]


@memo()  # a pure function of its text (memo.py)
def is_action(sentence: str) -> bool:
    """A sentence that orders a person to do something by hand ("Add `Dept-Sales` to the
    scope.", "スコープを `All Managed Macs` に変更する。"); a lead-in ("Then run:") is not."""
    text = sentence.strip().rstrip(" .。！!")
    if not text or text.endswith((":", "：")) or len(text) > 300:
        return False
    if _NOT_AN_ACTION.search(text) or text.endswith("?"):
        return False
    if _MANUALLY.search(text):
        return True  # "release it manually from App Store Connect", "by hand", "von Hand"
    words = re.sub(r"`[^`]*`", "", text).split()
    if len(words) < 2 or (
        all(w[:1].isupper() or not w[:1].isalpha() for w in words) and not _UI.match(text)
    ):
        return False  # "Upgrade Types", "Release Notes Template": a heading, no sentence
    return bool(_LATIN_FIRST.search(text) or _VERB_LAST.search(text) or _ZH_FIRST.search(text))


def by_hand(sentence: str) -> bool:
    """The sentence says the action is done by hand ("release it manually from …"): a
    person's step even when it waits for something first ("Once Apple approves the build, …")."""
    return bool(_MANUALLY.search(sentence))


def actions(text: str) -> list[str]:
    """The action sentences of a paragraph or an item, in order. A sentence that points to
    another runbook ("Deploy [a.md](a.md).") orders that runbook: a program (programs.py)."""
    if _RUNBOOK_LINK.search(text):
        return []
    return [s for s in sentences(text) if is_action(s)]


def _plain(text: str) -> str:
    """Emphasis and link marks removed, a code span's own text kept."""
    parts = re.split(r"(`[^`\n]*`)", text)
    return "".join(
        part
        if part.startswith("`") and part.endswith("`") and len(part) > 1
        else re.sub(r"\*+|(?<!\w)_+|_+(?!\w)|\[|\]\([^)]*\)|\]", "", part)
        for part in parts
    )


def step_name(title: str, said: list[str]) -> str:
    """The step a person does: the section's heading and every action, word for word (names
    and groups kept: they are what the person types or picks)."""
    joined = rules.one_line("; ".join(said), 400)
    head = rules.one_line(_plain(title).strip(), 80)
    return (
        f"Do by hand, then approve: {head} — {joined}"
        if head
        else f"Do by hand, then approve: {joined}"
    )
