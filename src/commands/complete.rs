//! The dynamic part of the completion scripts: account names for `code`, `rm`, `rename`, `edit`, `qr`
//! and `list`, read by the hidden `teamotp __complete-names` (through the agent, or a key that needs no
//! passphrase; it never prompts and prints nothing it cannot read). The helper never offers a name
//! holding a control character; the scripts quote each name for their shell.

use clap_complete::Shell;

/// The commands whose first argument is an account name.
pub const COMMANDS: [&str; 6] = ["code", "rm", "rename", "edit", "qr", "list"];

/// Extends clap's generated script for `shell` with account-name completion.
pub fn extend(shell: Shell, script: &mut Vec<u8>) {
    match shell {
        Shell::Bash => script.extend_from_slice(BASH.as_bytes()),
        Shell::Fish => script.extend_from_slice(FISH.as_bytes()),
        Shell::Zsh => {
            // clap's `_teamotp` becomes `_teamotp_clap`, and ours, which asks for names first, takes its
            // name: both when the file is sourced and when compsys autoloads it from $fpath.
            let text = String::from_utf8_lossy(script).into_owned();
            let ending = "\nif [ \"$funcstack[1]\" = \"_teamotp\" ]; then";
            if let Some(at) = text.rfind(ending) {
                let head = text[..at].replacen("\n_teamotp() {", "\n_teamotp_clap() {", 1);
                let mut out = head;
                out.push_str(ZSH);
                out.push_str(&text[at..]);
                *script = out.into_bytes();
            }
        }
        _ => {}
    }
}

const BASH: &str = r#"
# Account names for code, rm, rename, edit, qr and list (never prompts; quoted with printf %q). bash splits
# the line at ':' too (COMP_WORDBREAKS), so the words are joined again where no blank separates them, and
# each reply is what follows the current word's last ':' (what bash replaces).
_teamotp_accounts() {
    local -a words=()
    local line=${COMP_LINE:0:COMP_POINT} i j=-1 word
    for ((i = 0; i <= COMP_CWORD; i++)); do
        word=${COMP_WORDS[i]}
        if [[ $line == [[:blank:]]* || $i -eq 0 ]]; then
            line=${line#"${line%%[![:blank:]]*}"}
            ((j++))
            words[j]=$word
        elif [[ $word == :* || ${words[j]} == *: ]]; then
            words[j]+=$word
        else
            ((j++))
            words[j]=$word
        fi
        line=${line#"$word"}
    done
    local cword=$j cur=${words[j]} sub="" positional=0 value
    local -a args=()
    for ((i = 1; i < cword; i++)); do
        word=${words[i]}
        case $word in
            -f|--file|-i|--identity)
                value=${words[i+1]}
                args+=("$word" "${value/#\~/$HOME}")
                ((i++))
                continue ;;
            --at|--color|--recipients-file|--format|--min-remaining|--issuer|--digits|--period|--algorithm|--type)
                ((i++))
                continue ;;
            -*) continue ;;
        esac
        if [[ -z $sub ]]; then sub=$word; else ((positional++)); fi
    done
    case $sub in
        code|rm|rename|edit|qr|list)
            if [[ $positional -eq 0 && $cur != -* ]]; then
                # What was typed, unquoted: a leading quote and backslash escapes removed.
                local typed=$cur name reply quoted=""
                case $typed in
                    \'*) typed=${typed#\'} quoted=1 ;;
                    \"*) typed=${typed#\"} quoted=1 ;;
                    *) typed=${typed//\\/} ;;
                esac
                local before_colon=""
                [[ $typed == *:* ]] && before_colon=${typed%:*}:
                COMPREPLY=()
                while IFS= read -r name; do
                    [[ $name == "$typed"* ]] || continue
                    # Inside an open quote readline replaces the whole quoted word and quotes the reply.
                    if [[ -n $quoted ]]; then
                        reply=$name
                    else
                        printf -v reply '%q' "${name#"$before_colon"}"
                    fi
                    COMPREPLY+=("$reply")
                done < <(command teamotp "${args[@]}" __complete-names 2>/dev/null </dev/null)
                return 0
            fi ;;
    esac
    _teamotp "$@"
}
complete -F _teamotp_accounts -o bashdefault -o default teamotp
"#;

const ZSH: &str = r#"
# Account names for code, rm, rename, edit, qr and list (never prompts; compadd quotes them).
_teamotp() {
    local -a args names
    local sub="" word i positional=0
    for (( i = 2; i < CURRENT; i++ )); do
        word=${words[i]}
        case $word in
            -f|--file|-i|--identity)
                args+=("$word" "${words[i+1]/#\~/$HOME}")
                (( i++ ))
                continue ;;
            --at|--color|--recipients-file|--format|--min-remaining|--issuer|--digits|--period|--algorithm|--type)
                (( i++ ))
                continue ;;
            -*) continue ;;
        esac
        if [[ -z $sub ]]; then sub=$word; else (( positional++ )); fi
    done
    if [[ $sub == (code|rm|rename|edit|qr|list) && $positional -eq 0 && ${words[CURRENT]} != -* ]]; then
        names=("${(@f)$(command teamotp "${args[@]}" __complete-names 2>/dev/null </dev/null)}")
        names=(${names:#})
        compadd -a names
        return
    fi
    _teamotp_clap "$@"
}
"#;

const FISH: &str = r#"
# Account names for code, rm, rename, edit, qr and list (never prompts; fish quotes them).
function __fish_teamotp_accounts
    set -l tokens (commandline -opc)
    set -l args
    set -l count (count $tokens)
    for i in (seq 2 (math $count - 1))
        if contains -- $tokens[$i] -f --file -i --identity
            set -a args $tokens[$i] $tokens[(math $i + 1)]
        end
    end
    command teamotp $args __complete-names 2>/dev/null </dev/null
end
complete -c teamotp -n "__fish_teamotp_using_subcommand code rm rename edit qr list" -f -a "(__fish_teamotp_accounts)"
"#;

#[cfg(test)]
mod tests {
    use super::*;

    fn script(shell: Shell) -> String {
        let mut command = <crate::cli::Cli as clap::CommandFactory>::command();
        let mut out = Vec::new();
        clap_complete::generate(shell, &mut command, "teamotp", &mut out);
        extend(shell, &mut out);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn every_shell_asks_the_helper() {
        for shell in [Shell::Bash, Shell::Zsh, Shell::Fish] {
            let text = script(shell);
            assert!(
                text.contains("teamotp") && text.contains("__complete-names"),
                "{shell}"
            );
            for command in COMMANDS {
                assert!(text.contains(command), "{shell} {command}");
            }
        }
    }

    #[test]
    fn zsh_wraps_clap_s_function() {
        let text = script(Shell::Zsh);
        assert!(text.contains("\n_teamotp_clap() {"));
        assert_eq!(text.matches("\n_teamotp() {").count(), 1);
        assert!(text.trim_end().ends_with("fi"));
    }
}
