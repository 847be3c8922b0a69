"""Building CSV files for the import tests."""

ROSTER_HEADER = "記号,番号,枝番,氏,名,氏カナ,名カナ,性別,生年月日,続柄,事業所番号,資格取得日,資格喪失日,資格確認書発行要否,任意継続"
REGISTRATION_HEADER = "記号,番号,枝番,利用登録状況,基準日"

HANAKO = "1234,5678,00,佐藤,花子,サトウ,ハナコ,女,1985-11-14,本人,E0001,2010-04-01,,0,0"
TARO = "1234,5678,01,佐藤,太郎,サトウ,タロウ,男,1984-02-29,配偶者,,2012-06-01,,1,0"
ICHIRO = "1234,5678,02,佐藤,一郎,サトウ,イチロウ,男,2005-04-02,子,,2005-04-02,,0,0"
JIRO = "0001234,0009999,0,鈴木,次郎,ｽｽﾞｷ,ｼﾞﾛｳ,1,1960/8/31,本人,,20210901,,,1"


def csv_bytes(header: str, *lines: str, encoding: str = "utf-8", bom: bool = False) -> bytes:
    data = "\r\n".join((header, *lines)).encode(encoding) + b"\r\n"
    return (b"\xef\xbb\xbf" + data) if bom else data


def roster(*lines: str, **kwargs) -> bytes:
    return csv_bytes(ROSTER_HEADER, *lines, **kwargs)


def registration(*lines: str, **kwargs) -> bytes:
    return csv_bytes(REGISTRATION_HEADER, *lines, **kwargs)
