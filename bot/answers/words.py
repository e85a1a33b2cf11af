"""Words every part of the question analyzer shares: function words, and how much is read."""

from __future__ import annotations

from bot.shared.textnorm import Token, key

MIN_STEM = 3  # shortest short word another word can extend


def word_set(block: str) -> frozenset[str]:
    return frozenset(block.split())


def key_set(block: str) -> frozenset[str]:
    return frozenset(key(w) for w in block.split())


# Words that carry no topic. Kazakh and Russian in key form, English plain.
STOP_KEYS = key_set("""
как что где когда куда откуда почему зачем сколько какие какой какая каком каких нужно нужна
нужен нужны надо можно ли не ни в во на из с со к ко по для о об обо у от до за при я мне меня
мой моя мои мое мы нам нас наш наша вы вам вас ваш ваша он она они оно его ее их это этот эта
эти ты тебя тебе твой есть был была было быть если или и а но чтобы же бы то так уже еще все
всё пожалуйста там тут здесь хочу хотел хотела могу может мочь подскажите скажите помогите
делать сделать который которая которые свой своя свои себя ещё очень просто также тоже какое
чем кто кого без через после перед между под над около кроме среди сейчас теперь ли будет қалай
қандай қанша қашан қайда қайдан неге неше не кім керек қажет үшін бойынша туралы және мен бар
жоқ ма ме ба бе па пе бұл осы сол сіз сен біз олар менің сізге маған да де та те ғой ғана тек
еді ма екен болады бола болса қай айтыңызшы көмектесіңізші сіздер өз өзім ал әлде немесе бірақ
енді қазір тағы бару баруға барамын барсам барамыз барып алу алуға аламын алсам аламыз алынады
алып беру береді жасау жасауға келу келеді кету қалу істеу істеймін болу болуы болған
""") | word_set("""
the a an is are am was were be been do does did can could i my me mine you your we our us to of
in on at for from with and or how what where when why which who whom need needs needed want
would should please get got have has had it its this that these those there be will shall may
might about any if so just must some much many tell let know also very i'm im it's ive i've
""")


_QUESTION_PARTICLES = ("ма", "ме", "ба", "бе", "па", "пе")
_GLUED_STEM = 3  # shortest function word a particle is taken off


def is_stop(tok: Token) -> bool:
    k = tok.key
    return (
        k in STOP_KEYS
        or tok.latin in STOP_KEYS
        or tok.lower in STOP_KEYS
        or (
            k.endswith(_QUESTION_PARTICLES)
            and len(k) - 2 >= _GLUED_STEM
            and k[:-2] in STOP_KEYS
        )
    )


def stop_element(tok: Token) -> str:
    return tok.latin or tok.key
