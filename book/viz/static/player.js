/* The static player of book.viz: it only shows what Python computed. Every picture, position and string is in the
   player's JSON data (book.viz.draw.player_data); this script picks the setting the controls name and, for step t,
   moves the window groups and the current-cell mark to the offsets given for t, shows output numbers 0..t and the
   given strings. Strings and per-step lists are stored once (D.x, D.v) and referred to by index; an output grid's
   numbers come as two such lists, their opening tags and the numbers, joined pairwise.
   ES5, no dependencies, scoped to its root element. Each player's output defines the function and calls it on its
   root; a page of several players needs the definition once (_ext/static_players.py drops the repeats). */
window.bookKsPlayer=function(root){
var D=JSON.parse(root.querySelector('script.ks-data').textContent),S=null,t=0,timer=null;
root.insertAdjacentHTML('afterbegin',D.html);
var $=function(s){return root.querySelector(s);},sels=root.querySelectorAll('.ks-ctl select');
var pic=$('.ks-pic'),eq=$('.ks-eq'),label=$('.ks-step'),slider=$('input[type=range]'),playBtn=$('[data-act=play]');
var X=D.x,V=D.v;
var moving=[],cur=[],outs=[];
function setting(){var i=0;for(var c=0;c<sels.length;c++)i+=sels[c].selectedIndex*D.mul[c];return D.s[D.pick[i]];}
function choose(){
 setPlaying(false);S=setting();$('.ks-title').textContent=X[S.t];$('.ks-size').textContent=X[S.z];
 for(var c=0;c<sels.length;c++)sels[c].disabled=S.off.indexOf(c)>=0;
 if(D.kc>=0){root.querySelector('[data-c="'+D.kc+'"]').textContent=S.kl;sels[D.kc].setAttribute('aria-label',S.kl);}
 var html='',j,k;if(S.m!==undefined)html=S.m;else for(j=0;j<S.p.length;j++){var q=S.p[j];
  if(typeof q==='number'){html+=D.f[q];continue;}
  var tags=V[q[0]],texts=V[q[1]];for(k=0;k<tags.length;k++)html+=X[tags[k]]+X[texts[k]];}
 pic.innerHTML=html;fit();moving=pic.querySelectorAll('.ks-w');cur=pic.querySelectorAll('.ks-c');
 outs=pic.querySelectorAll('.ks-out');
 var n=S.n||1,buttons=root.querySelectorAll('.ks-bar button');
 for(j=0;j<buttons.length;j++)buttons[j].disabled=!S.n;slider.disabled=!S.n;slider.max=n-1;
 show(0);}
/* Each grid's font as book.viz.draw.number_font gives it for the numbers the grid holds now: the same as Python's
   unless a page wrote other numbers into the data (the LeNet explorer writes a digit's values). */
var EM={'.':0.32,'\u2212':0.84,'\u221e':0.84},DIGIT_EM=0.64,MARGIN=1,MIN_FONT=12;
function fit(){var svgs=pic.querySelectorAll('svg[data-u]');
 for(var i=0;i<svgs.length;i++){
  var g=svgs[i],u=+g.getAttribute('data-u'),texts=g.querySelectorAll('text:not(.wt)'),widest=0,j,k;
  for(j=0;j<texts.length;j++){var s=texts[j].textContent,w=0;for(k=0;k<s.length;k++)w+=EM[s.charAt(k)]||DIGIT_EM;
   widest=Math.max(widest,w);}
  var largest=Math.max(12,Math.round(u*0.4)),font=widest?Math.min(largest,Math.floor((u-2*MARGIN)/widest)):largest,
   cls=font<MIN_FONT?'ks-svg ks-dense':'ks-svg',size=Math.max(font,MIN_FONT)+'px';
  if(g.getAttribute('class')!==cls)g.setAttribute('class',cls);
  if(g.style.fontSize!==size)g.style.fontSize=size;
  if(font<MIN_FONT)shade(g,u);}}
/* A grid too fine for its numbers shows their values as shades instead (blue above zero, red below, the strongest
   the largest magnitude), so a digit under the window stays visible; the output grid keeps its step-by-step reveal. */
function shade(g,u){
 if(g.querySelector('.ks-shade'))return;
 var NS=g.namespaceURI;
 var groups=g.querySelectorAll('.ks-vals,.ks-kernel');
 for(var i=0;i<groups.length;i++){
  var texts=groups[i].querySelectorAll('text'),values=[],top=0,j;
  for(j=0;j<texts.length;j++){var v=parseFloat(texts[j].textContent.replace('\u2212','-'));values.push(v);
   if(isFinite(v))top=Math.max(top,Math.abs(v));}
  var layer=document.createElementNS(NS,'g');layer.setAttribute('class','ks-shade');
  for(j=0;j<texts.length;j++){if(!top||!isFinite(values[j])||!values[j])continue;
   var r=document.createElementNS(NS,'rect');
   r.setAttribute('x',+texts[j].getAttribute('x')-u/2);r.setAttribute('y',+texts[j].getAttribute('y')-u/2);
   r.setAttribute('width',u);r.setAttribute('height',u);
   r.setAttribute('fill',values[j]>0?'#2b6cb0':'#c53030');r.setAttribute('fill-opacity',(0.85*Math.abs(values[j])/top).toFixed(3));
   layer.appendChild(r);}
  groups[i].parentNode.insertBefore(layer,groups[i]);}}
function show(s){
 if(!S.n){t=0;eq.textContent='';label.textContent=X[S.l];slider.value=0;return;}
 t=Math.max(0,Math.min(S.n-1,s));
 var j,k,w=V[S.w],o=V[S.o],move='translate('+w[2*t]+' '+w[2*t+1]+')',at='translate('+o[2*t]+' '+o[2*t+1]+')';
 for(j=0;j<moving.length;j++)moving[j].setAttribute('transform',move);
 for(j=0;j<cur.length;j++)cur[j].setAttribute('transform',at);
 for(k=0;k<outs.length;k++){var x=outs[k].querySelectorAll('text');
  for(j=0;j<x.length;j++)x[j].setAttribute('class',j<t?'v':j===t?'on':'');}
 eq.textContent=X[V[S.e][t]];label.textContent=X[V[S.l][t]];slider.value=t;}
function setPlaying(on){
 if(timer){clearInterval(timer);timer=null;}
 if(on&&S&&S.n){if(t>=S.n-1)show(0);timer=setInterval(function(){if(t>=S.n-1)setPlaying(false);else show(t+1);},D.ms);}
 else on=false;
 playBtn.innerHTML=on?D.icons.pause:D.icons.play;playBtn.setAttribute('aria-label',on?'pause':'play');
 playBtn.title=on?'pause':'play';root.setAttribute('data-playing',on?'1':'0');}
function act(name,f){$('[data-act='+name+']').onclick=function(){setPlaying(false);f();};}
act('first',function(){show(0);});act('back',function(){show(t-1);});
act('next',function(){show(t+1);});act('last',function(){show(S.n-1);});
playBtn.onclick=function(){setPlaying(!timer);};
slider.oninput=function(){setPlaying(false);show(+slider.value);};
for(var c=0;c<sels.length;c++)sels[c].onchange=choose;
choose();
};
